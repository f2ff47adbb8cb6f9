/** Type parsers shared by both adapters, so rows look the same whichever driver ran them. */
export const OID = {
  INT8: 20,
  NUMERIC: 1700,
  DATE: 1082,
  INT8_ARRAY: 1016,
  DATE_ARRAY: 1182,
  NUMERIC_ARRAY: 1231,
} as const;

export function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`int8 value ${value} is outside the safe integer range`);
  }
  return n;
}

export function parseNumeric(value: string): number {
  return Number(value);
}

export function parseDate(value: string): string {
  return value;
}

/**
 * A one-dimensional array of unquoted elements (numbers, dates), e.g. '{1,NULL,3}'.
 * Enough for the element types registered below, which never need quoting.
 */
export function flatArrayParser<T>(parse: (value: string) => T): (value: string) => (T | null)[] {
  return (value) => {
    const inner = value.slice(1, -1);
    if (inner.includes('{')) throw new RangeError('multi-dimensional arrays are not supported');
    if (inner === '') return [];
    return inner.split(',').map((item) => (item === 'NULL' ? null : parse(item)));
  };
}

export const PARSERS: Readonly<Record<number, (value: string) => unknown>> = {
  [OID.INT8]: parseInt8,
  [OID.NUMERIC]: parseNumeric,
  [OID.DATE]: parseDate,
  [OID.INT8_ARRAY]: flatArrayParser(parseInt8),
  [OID.NUMERIC_ARRAY]: flatArrayParser(parseNumeric),
  [OID.DATE_ARRAY]: flatArrayParser(parseDate),
};
