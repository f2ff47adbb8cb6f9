/** A forward-only migration. Never edit one that has been released; add a new one. */
export interface Migration {
  /** 'NNNN-name'; applied in list order, recorded in schema_migrations. */
  readonly id: string;
  readonly sql: string;
}
