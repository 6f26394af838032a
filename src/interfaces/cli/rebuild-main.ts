import { runRebuildCommand } from './rebuild.js';

// `npm run rebuild -- [options]`: see src/interfaces/cli/rebuild.ts and docs/operations.md.
runRebuildCommand(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr })
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(3);
  });
