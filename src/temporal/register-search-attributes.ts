// Registers the custom search attributes on servers that lack them (the dev server gets them at start).
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from '../logger';
import { CUSTOM_SEARCH_ATTRIBUTES } from './search-attributes';

export async function ensureSearchAttributes(client: Client, namespace: string, logger: Logger): Promise<void> {
  try {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
    const missing = CUSTOM_SEARCH_ATTRIBUTES.filter((attribute) => !(attribute.name in (customAttributes ?? {})));
    if (missing.length === 0) return;
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((attribute) => [attribute.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    logger.info({ searchAttributes: missing.map((attribute) => attribute.name) }, 'search attributes registered');
  } catch (error) {
    // Hosted Temporal refuses the operator API to workers: there, an administrator registers them once.
    logger.warn({ err: error, searchAttributes: CUSTOM_SEARCH_ATTRIBUTES.map((attribute) => attribute.name) }, 'could not check or register search attributes; register them with `temporal operator search-attribute create`');
  }
}
