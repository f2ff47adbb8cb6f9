function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalarEqual(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  // YAML reads `2` as a number where the engine may keep "2", and the other way round.
  const loose = (v: unknown): boolean => typeof v === 'string' || typeof v === 'number';
  return loose(actual) && loose(expected) && String(actual) === String(expected);
}

/**
 * True when `actual` contains `expected`: objects partially and deeply, arrays element by
 * element, `null` meaning absent (or null).
 */
export function matchesPartial(actual: unknown, expected: unknown): boolean {
  if (expected === null) return actual === undefined || actual === null;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => matchesPartial(actual[i], e))
    );
  }
  if (isRecord(expected)) {
    return (
      isRecord(actual) && Object.entries(expected).every(([k, v]) => matchesPartial(actual[k], v))
    );
  }
  return scalarEqual(actual, expected);
}

/** One line, for messages: JSON with long values cut. */
export function show(value: unknown, max = 200): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
