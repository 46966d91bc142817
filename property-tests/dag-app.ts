/**
 * A generated DAG as an application module, for runs on containers (each container loads it): the spec
 * is this module's `?spec=` query, so every spec is a module of its own (containers.test.ts).
 */
import { buildApp, type DagSpec } from './random-dag.ts';

const spec = new URL(import.meta.url).searchParams.get('spec');
if (spec === null) throw new Error('dag-app.ts is loaded with ?spec=<a DagSpec as JSON>');

export default buildApp(JSON.parse(spec) as DagSpec);
