/** `snake AS "camel"` for every entry, so rows come back in the shape of the TS type. */
export function selectList(columns: Readonly<Record<string, string>>): string {
  return Object.entries(columns)
    .map(([key, column]) => (key === column ? column : `${column} AS "${key}"`))
    .join(', ');
}

/** jsonb parameters go as text: node-postgres would turn a JS array into a PG array. */
export function jsonParam(value: unknown): string {
  return JSON.stringify(value ?? {});
}
