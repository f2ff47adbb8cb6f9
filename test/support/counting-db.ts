/** Counts the statements a database runs (a round trip each), passing them through. */
export function counting<T extends { query: (...a: never[]) => unknown }>(db: T) {
  let n = 0;
  const wrapped = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query')
        return (...args: Parameters<T['query']>) => {
          n += 1;
          return target.query(...args);
        };
      return Reflect.get(target, prop, receiver);
    },
  });
  return { db: wrapped, count: () => n };
}
