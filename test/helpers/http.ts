/** HTTP to the bridge in tests: loopback only (the lint rule bans fetch everywhere else). */
export function loopbackFetch(url: string, init?: RequestInit): Promise<Response> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`tests only talk to 127.0.0.1, not ${url}`);
  // eslint-disable-next-line no-restricted-syntax -- loopback bridge under test
  return fetch(url, init);
}
