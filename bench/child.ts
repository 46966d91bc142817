/** `node --expose-gc --import tsx bench/child.ts JOB`: runs one Job (JSON) and prints its JobResult. */
import { type Job, runJob } from './jobs.ts';

const job = JSON.parse(process.argv[2] ?? '') as Job;
process.stdout.write(`${JSON.stringify(await runJob(job))}\n`);
