import { invalidArgument } from './google-error.js';

/** One page of a listing. */
export interface Page<T> {
  items: T[];
  nextPageToken: string | undefined;
}

/**
 * One page of `all` (newest first, i.e. descending `sequenceOf`). The token is the sequence number of
 * the last item returned, so paging stays stable while items are created or deleted meanwhile.
 */
export function paginate<T>(
  all: T[],
  sequenceOf: (item: T) => number,
  pageSize: number,
  pageToken: string | undefined,
): Page<T> {
  let after = Number.POSITIVE_INFINITY;
  if (pageToken) {
    after = Number.parseInt(Buffer.from(pageToken, 'base64url').toString('utf8'), 10);
    if (!Number.isInteger(after) || after < 0) throw invalidArgument(`Invalid page token: ${pageToken}.`);
  }
  const rest = all.filter((item) => sequenceOf(item) < after);
  const items = rest.slice(0, pageSize);
  const last = items.at(-1);
  return {
    items,
    nextPageToken:
      rest.length > pageSize && last !== undefined
        ? Buffer.from(String(sequenceOf(last)), 'utf8').toString('base64url')
        : undefined,
  };
}

/**
 * A page as Google's list methods answer it: `{[field]: items, nextPageToken}`, each left out when
 * empty (proto JSON omits empty lists and strings).
 */
export function pageJson<T>(
  page: Page<T>,
  field: string,
  toJson: (item: T) => Record<string, unknown>,
): Record<string, unknown> {
  return {
    ...(page.items.length > 0 ? { [field]: page.items.map((item) => toJson(item)) } : {}),
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
  };
}
