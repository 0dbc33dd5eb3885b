/**
 * Optional Cache API storage for fetched model files (`load(url, { cache: true })`): a second page load reads
 * tokenizer.json and the graph from the browser's cache instead of the network. config.json is always fetched;
 * when it differs from the cached copy (the folder was re-exported), the cached files are dropped.
 */

export const DEFAULT_CACHE_NAME = "m2v-edge";

/**
 * A fetch for the files of one folder, with the Cache API when asked for and available (secure contexts).
 *
 * @param {boolean | string | undefined} option `true` (cache "m2v-edge"), a cache name, or off.
 * @param {typeof fetch} fetchImpl
 * @returns {((url: string, isConfig: boolean) => Promise<Response>) & {flush: () => Promise<void>, hits: string[]}}
 */
export function cachedFetcher(option, fetchImpl) {
  if (option !== undefined && typeof option !== "boolean" && typeof option !== "string") {
    throw new TypeError(`cache must be true, false or a cache name, got ${JSON.stringify(option)}`);
  }
  const hits = [];
  const pending = [];
  const storage = option && globalThis.caches ? globalThis.caches : null;
  if (storage === null) {
    const plain = (url) => fetchImpl(url);
    return Object.assign(plain, { flush: async () => {}, hits });
  }
  const name = typeof option === "string" ? option : DEFAULT_CACHE_NAME;
  let opened = null;
  let stale = false;
  let storeConfig = null;
  const open = () => (opened ??= storage.open(name));

  const keep = (cache, url, response) => {
    // Stored while the caller reads the other copy (so progress events are live); failures (quota) are ignored.
    pending.push(cache.put(url, response.clone()).catch(() => {}));
    return response;
  };

  const get = async (url, isConfig) => {
    const cache = await open();
    if (isConfig) {
      const response = await fetchImpl(url);
      if (!response.ok) return response;
      const before = await cache.match(url);
      const [fresh, old] = await Promise.all([response.clone().text(), before ? before.text() : null]);
      stale = old !== fresh;
      // Stored last (in flush), so a load cut short never pairs the new config with old cached files.
      if (stale) storeConfig = () => cache.put(url, new Response(fresh, { headers: response.headers }));
      return response;
    }
    if (!stale) {
      const cached = await cache.match(url);
      if (cached) {
        hits.push(url);
        return cached;
      }
    }
    const response = await fetchImpl(url);
    return response.ok ? keep(cache, url, response) : response;
  };
  const flush = async () => {
    await Promise.all(pending);
    if (storeConfig !== null) await storeConfig().catch(() => {});
  };
  return Object.assign(get, { flush, hits });
}
