// Reads a campaign's recipients from a CSV or JSON file and checks each against the campaign's channel
// and templates, so a bad file is refused whole, with the lines at fault, before anything is written.
import { constants, createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse';
import { renderTemplate, TemplateError } from '../channels/templates';
import type { Channel } from '../db/schema';
import { isEmailAddress } from '../channels/email';

export interface RecipientRow {
  recipientId: string;
  address: string;
  variables: Record<string, unknown>;
}

export type RecipientFileFormat = 'csv' | 'json';

export class RecipientFileError extends Error {
  override name = 'RecipientFileError';
}

const ID_COLUMNS = ['recipient_id', 'recipientId', 'id'];
const ADDRESS_COLUMNS = ['address', 'email', 'url'];
const MAX_REPORTED_PROBLEMS = 20;


export function addressProblem(channel: Channel, address: string): string | undefined {
  if (!address) return 'address is empty';
  if (channel === 'email' && !isEmailAddress(address)) return `"${address}" is not an email address`;
  if (channel === 'webhook') {
    try {
      const url = new URL(address);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${address}" is not an http(s) URL`;
    } catch {
      return `"${address}" is not a URL`;
    }
  }
  return undefined;
}

export function formatOf(file: string, explicit?: string): RecipientFileFormat {
  const format = explicit ?? path.extname(file).slice(1).toLowerCase();
  if (format === 'csv' || format === 'json') return format;
  throw new RecipientFileError(`Cannot tell the format of ${file}: name it .csv or .json, or pass --format csv|json`);
}

function pick(record: Record<string, unknown>, names: string[]): { name?: string; value: string } {
  for (const name of names) {
    if (record[name] !== undefined && record[name] !== null) return { name, value: String(record[name]).trim() };
  }
  return { value: '' };
}

/** One row of either format: id and address columns, everything else (or a `variables` object) as template values. */
function toRow(record: Record<string, unknown>): RecipientRow {
  const id = pick(record, ID_COLUMNS);
  const address = pick(record, ADDRESS_COLUMNS);
  const variables: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key === id.name || key === address.name) continue;
    if (key === 'variables' && value && typeof value === 'object' && !Array.isArray(value)) Object.assign(variables, value);
    else variables[key] = value;
  }
  return { recipientId: id.value, address: address.value, variables };
}

async function* csvRecords(file: string): AsyncGenerator<{ line: number; record: Record<string, unknown> }> {
  // A short row leaves its last variables unset, which the template check then names; a long one is an error.
  const parser = parse({ columns: true, bom: true, trim: true, skip_empty_lines: true, relax_column_count_less: true, info: true });
  const source = createReadStream(file);
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, unknown>; info: { lines: number } }>) {
      yield { line: info.lines, record };
    }
  } catch (error) {
    throw new RecipientFileError(`${file} is not valid CSV: ${(error as Error).message}`);
  }
}

async function* jsonRecords(file: string): AsyncGenerator<{ line: number; record: Record<string, unknown> }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new RecipientFileError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { recipients?: unknown })?.recipients;
  if (!Array.isArray(list)) throw new RecipientFileError(`${file} must hold an array of recipients, or { "recipients": [...] }`);
  for (const [index, record] of list.entries()) {
    if (!record || typeof record !== 'object' || Array.isArray(record)) {
      throw new RecipientFileError(`${file}: recipient #${index + 1} is not an object`);
    }
    yield { line: index + 1, record: record as Record<string, unknown> };
  }
}

export interface ReadOptions {
  file: string;
  format?: string;
  channel: Channel;
  body: string;
  subject?: string;
  /** Receives valid rows in chunks while the file is read; nothing is kept in memory beyond a chunk. */
  onChunk: (rows: RecipientRow[]) => Promise<void>;
  chunkSize?: number;
}

/**
 * Streams the file, validating each recipient (id present and unique, address fit for the channel,
 * every template variable present) and handing valid rows on in chunks. Throws a RecipientFileError
 * listing the problems if there is any, so the caller can roll back what it wrote.
 */
export async function readRecipientFile(options: ReadOptions): Promise<number> {
  const format = formatOf(options.file, options.format);
  try {
    await access(options.file, constants.R_OK);
  } catch (error) {
    throw new RecipientFileError(`Cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const chunkSize = options.chunkSize ?? 1_000;
  const where = format === 'csv' ? 'line' : 'recipient #';
  const seen = new Set<string>();
  const problems: string[] = [];
  let problemCount = 0;
  let count = 0;
  let chunk: RecipientRow[] = [];
  const report = (line: number, message: string) => {
    problemCount += 1;
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push(`${where}${where === 'line' ? ' ' : ''}${line}: ${message}`);
  };

  const records = format === 'csv' ? csvRecords(options.file) : jsonRecords(options.file);
  for await (const { line, record } of records) {
    const row = toRow(record);
    if (!row.recipientId) {
      report(line, `no recipient id (a ${ID_COLUMNS.join(' / ')} column)`);
      continue;
    }
    if (seen.has(row.recipientId)) {
      report(line, `recipient id "${row.recipientId}" appears twice`);
      continue;
    }
    seen.add(row.recipientId);
    const badAddress = addressProblem(options.channel, row.address);
    if (badAddress) {
      report(line, `recipient "${row.recipientId}": ${badAddress}`);
      continue;
    }
    try {
      renderTemplate(options.body, row.variables, 'text');
      if (options.subject) renderTemplate(options.subject, row.variables, 'text');
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      report(line, `recipient "${row.recipientId}": ${error.message}`);
      continue;
    }
    count += 1;
    if (problemCount === 0) {
      chunk.push(row);
      if (chunk.length >= chunkSize) {
        await options.onChunk(chunk);
        chunk = [];
      }
    }
  }
  if (problemCount > 0) {
    const more = problemCount > problems.length ? `\n  ... and ${problemCount - problems.length} more` : '';
    throw new RecipientFileError(`${options.file} has ${problemCount} problem(s); nothing was created:\n  ${problems.join('\n  ')}${more}`);
  }
  if (count === 0) throw new RecipientFileError(`${options.file} has no recipients`);
  if (chunk.length > 0) await options.onChunk(chunk);
  return count;
}
