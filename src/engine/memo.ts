/**
 * `fn` remembered by argument, for a pure function called again and again with the same few
 * inputs (keyword phrases, phone numbers): at most `max` results are kept, and the memo is
 * emptied when it is full, so memory stays bounded whatever the inputs.
 */
export function memoize<K, V>(fn: (key: K) => V, max: number): (key: K) => V {
  const known = new Map<K, V>();
  return (key) => {
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    const value = fn(key);
    if (known.size >= max) known.clear();
    known.set(key, value);
    return value;
  };
}
