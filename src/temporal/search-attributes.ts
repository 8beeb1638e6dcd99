// Custom search attributes the Web UI filters by. Only identifiers go here, never personal data.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CAMPAIGN_ID = defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD);
export const EVENT_TYPE = defineSearchAttributeKey('EventType', SearchAttributeType.KEYWORD);

/** Name and type of each, as `temporal server start-dev --search-attribute` and the operator API want them. */
export const CUSTOM_SEARCH_ATTRIBUTES = [CAMPAIGN_ID, EVENT_TYPE].map((key) => ({ name: key.name, type: 'Keyword' as const }));
