/**
 * The one error table (errors.ts) as the markdown of docs/errors.md, so that
 * the docs print the table from the code instead of writing it twice.
 * `npm run docs:errors` writes the file; core's errors test fails when it is
 * not current. Pure: no fs.
 */
import { ERRORS } from './errors.js';

export const ERROR_DOC_HEADER = `# Error codes

<!-- Generated from packages/core/src/errors.ts by \`npm run docs:errors\`; do not edit by hand. -->

Every error zenroll reports has one stable code ([SPEC.md](SPEC.md) §5), and the code alone
fixes the exit status of the command that ends with it, the HTTP status of an
answer that carries it, and whether a Sender that meets it retries on the
[SPEC.md](SPEC.md) §1 schedule ("yes": a failure that can pass by itself) or stops sending
that zip at once ("no": waiting cannot mend it; the message names the fix and
the zip waits for the next roll-up, or in \`entpushdir/rejected/\` when the
zip itself is bad). HTTP \`—\`: the code is met on one side only and is
no Receiver's answer. A code relayed by the running service (\`zenroll rollup\`
asking \`zenroll serve\`) stays the same code, with the same exit status.

Exit status: \`1\` a failure of the work, \`2\` bad usage, a bad config or a
set-up that cannot work (systemd does not restart \`zenroll serve\` on 2).
`;

export function errorTableMarkdown(): string {
  const rows = Object.entries(ERRORS).map(
    ([code, spec]) =>
      `| \`${code}\` | ${spec.exit} | ${spec.http ?? '—'} | ${spec.retry ? 'yes' : 'no'} | ${spec.text.replace(/\|/g, '\\|')} |`,
  );
  return `${ERROR_DOC_HEADER}\n| code | exit | HTTP | retried | meaning |\n|---|---|---|---|---|\n${rows.join('\n')}\n`;
}
