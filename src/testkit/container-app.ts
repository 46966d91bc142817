/**
 * The module each container loads for a test-kit run on containers (run-with-faults.ts passes its file URL
 * with `?dir=<scratch dir>` as the launch option `module`): the application under test, imported from the
 * module named in the directory's config, wrapped for faults and recording (cross-thread.ts).
 */
import { isApplication } from '../api/application.ts';
import { FileRecorder, instrumentApplication, LedgerFaults, readConfig } from './cross-thread.ts';

const dir = new URL(import.meta.url).searchParams.get('dir');
if (dir === null) throw new Error('container-app.ts is loaded with ?dir=<the test run scratch directory>');
const config = readConfig(dir);
const app = ((await import(config.app)) as { default?: unknown }).default;
if (!isApplication(app)) throw new Error(`${config.app} has no application as its default export`);

const recorder = config.record === false ? undefined : new FileRecorder(dir);
export default instrumentApplication(app, new LedgerFaults(dir, config), recorder);
