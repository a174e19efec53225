/**
 * Run `fn` over `items` with at most `limit` calls in flight (uploads and downloads of many small
 * artifacts: one at a time pays a round trip per file). The first failure rejects; calls already
 * started finish on their own.
 */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
