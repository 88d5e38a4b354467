/** The program the `ioreactor serve` supervisor runs for each worker. */
import { runWorker } from './worker';

runWorker();
