// `npm run temporal:install`: makes sure the temporal CLI is available and prints its path.
import { loadConfig } from '../config';
import { resolveTemporalCli } from './cli-binary';

async function main() {
  const config = loadConfig();
  const binary = await resolveTemporalCli({
    explicitPath: config.temporal.cliPath,
    onProgress: (message) => console.error(message),
  });
  console.log(binary);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
