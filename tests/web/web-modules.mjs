// Where the dashboard's page modules live, for the tests to import them as the browser does (no build step).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WEB = new URL('../../Sources/WeatherDashboard/Resources/web/', import.meta.url);

/** problem-types.json, the file the server reads at start and the page fetches. */
export function problemTypes() {
  return JSON.parse(readFileSync(fileURLToPath(new URL('problem-types.json', WEB)), 'utf8'));
}
