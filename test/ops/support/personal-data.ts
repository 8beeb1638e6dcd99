// Looks for personal data where it must not be: raw workflow histories (as stored, without any codec),
// search attributes and memos of every workflow in a namespace.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface Finding {
  workflowId: string;
  where: 'history' | 'search attributes' | 'memo';
  needle: string;
}

async function rawHistory(client: Client, namespace: string, execution: temporal.api.common.v1.IWorkflowExecution): Promise<Buffer> {
  const pages: Buffer[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const response = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution, nextPageToken, maximumPageSize: 1000 });
    pages.push(Buffer.from(temporal.api.history.v1.History.encode(response.history ?? {}).finish()));
    nextPageToken = response.nextPageToken?.length ? response.nextPageToken : undefined;
  } while (nextPageToken);
  return Buffer.concat(pages);
}

function contains(bytes: Uint8Array, needle: string): boolean {
  return Buffer.from(bytes).includes(Buffer.from(needle, 'utf8'));
}

/** Every place one of `needles` (addresses, names) appears in plain text. */
export async function findPersonalData(client: Client, namespace: string, needles: string[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({ namespace, pageSize: 500, nextPageToken });
    for (const info of page.executions) {
      const workflowId = info.execution?.workflowId ?? '?';
      const history = await rawHistory(client, namespace, info.execution!);
      const searchAttributes = Buffer.from(temporal.api.common.v1.SearchAttributes.encode(info.searchAttributes ?? {}).finish());
      const memo = Buffer.from(temporal.api.common.v1.Memo.encode(info.memo ?? {}).finish());
      for (const needle of needles) {
        if (contains(history, needle)) findings.push({ workflowId, where: 'history', needle });
        if (contains(searchAttributes, needle)) findings.push({ workflowId, where: 'search attributes', needle });
        if (contains(memo, needle)) findings.push({ workflowId, where: 'memo', needle });
      }
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return findings;
}
