/** A module that takes half a second to load, for lib/workerPool.ts's tests: a thread slow to start. */
import { spin } from './poolTasks';

spin(500);

export { echo } from './poolTasks';
