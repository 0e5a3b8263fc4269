// Simulator seeds 201..300 (see simulator.ts; the other ranges run in their own files, in parallel).
import { itRunsSeeds } from './seeds.js';

itRunsSeeds(201, 300);
