/** `node --expose-gc --import tsx bench/machine-data-child.ts JOB`: runs one MdJob (JSON), prints its result. */
import { type MdJob, runMdJob } from './machine-data-jobs.ts';

const job = JSON.parse(process.argv[2] ?? '') as MdJob;
process.stdout.write(`${JSON.stringify(await runMdJob(job))}\n`);
