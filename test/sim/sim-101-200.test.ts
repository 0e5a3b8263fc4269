// Simulator seeds 101..200 (see simulator.ts; the other ranges run in their own files, in parallel).
import { itRunsSeeds } from './seeds.js';

itRunsSeeds(101, 200);
