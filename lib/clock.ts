// Values of the current time made once per millisecond: Date#toISOString costs about 1 µs here, and an
// accept reads the time three times (the decision, its event row, the log line); ids start with a stamp
// of the time (lib/domain/util.ts newId).

/** make(Date.now()), made again only when the millisecond has changed since the last call. */
export function perMillisecond(make: (ms: number) => string): () => string {
  let lastMs = -1;
  let last = '';
  return () => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      last = make(ms);
    }
    return last;
  };
}

/** The current time as an ISO 8601 string. */
export const nowIso = perMillisecond((ms) => new Date(ms).toISOString());
