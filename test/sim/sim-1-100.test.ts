// Simulator seeds 1..100 (see simulator.ts; the other ranges run in their own files, in parallel).
import { itRunsSeeds } from './seeds.js';

itRunsSeeds(1, 100);
