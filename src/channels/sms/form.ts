/** A decoded `application/x-www-form-urlencoded` body: a repeated name has several values. */
export type FormParams = Readonly<Record<string, string | readonly string[]>>;

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** The single value of a field; a field sent more than once is refused, not guessed at. */
export function single(params: FormParams, field: string): string | undefined | FieldError {
  const value = params[field];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 1) return value[0];
  return { field, message: 'must appear once' };
}

/** Flattens to one value per field for zod; repeated fields become errors. */
export function flatten(params: FormParams): {
  values: Record<string, string>;
  errors: FieldError[];
} {
  const values: Record<string, string> = {};
  const errors: FieldError[] = [];
  for (const field of Object.keys(params)) {
    const value = single(params, field);
    if (typeof value === 'string') values[field] = value;
    else if (value !== undefined) errors.push(value);
  }
  return { values, errors };
}

export function zodErrors(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): FieldError[] {
  return issues.map((i) => ({
    field: i.path.map(String).join('.') || '(form)',
    message: i.message,
  }));
}
