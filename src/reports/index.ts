/** The report as the CLI and the admin API export it: suppressed, JSON or CSV. */
import type { Db } from '../store/db-port.js';
import { reportCsv } from './csv.js';
import { computeReport } from './figures.js';
import { periodOf, type ReportRequest } from './period.js';
import { exportReport } from './suppress.js';

export { type ReportRequest, reportRequestSchema } from './period.js';

export interface RenderedReport {
  contentType: string;
  body: string;
}

export async function renderReport(
  db: Db,
  request: ReportRequest,
  opts: { zone: string; now: Date },
): Promise<RenderedReport> {
  const figures = await computeReport(db, periodOf(request.from, request.to, opts.zone), opts.now);
  const exported = exportReport(figures);
  if (request.format === 'csv') {
    return { contentType: 'text/csv; charset=utf-8', body: reportCsv(exported) };
  }
  return {
    contentType: 'application/json; charset=utf-8',
    body: `${JSON.stringify(exported, null, 2)}\n`,
  };
}
