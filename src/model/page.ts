/** One page of a list: at most `limit` rows whose sort key comes after `after` (none: from the start). */
export type Page = { limit: number; after: string | undefined };
