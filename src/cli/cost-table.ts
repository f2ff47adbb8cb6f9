import { formatProblem, loadCatalog } from '../catalog/load.js';
import { costTableMarkdown } from '../engine/validate/cost-table.js';

/**
 * Prints the README's cost table: worst-case SMS segments per flow per language ("largest
 * message / all messages"). Run: node_modules/.bin/tsx src/cli/cost-table.ts [flows] [locales]
 */
const [flowsDir = 'flows', localesDir = 'locales'] = process.argv.slice(2);
const catalog = await loadCatalog(flowsDir, localesDir);
if (catalog.problems.length > 0) {
  process.stderr.write(`${catalog.problems.map(formatProblem).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`${costTableMarkdown(catalog.flows, catalog.locales)}\n`);
