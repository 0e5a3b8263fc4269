// Status names -> colours, one table for every page (and the legend). Flow and task statuses share names.
export const STATUS_COLOURS: Record<string, string> = {
  SUCCESS: '#2e9e44', FAIL: '#d62d2d', RUNNING: '#2f7de1', RERUN: '#e08a1e', READY: '#8fb8ef', WAIT: '#a0a6b5', INIT: '#b9b9b9',
  CANCEL: '#7a4fbf', SKIP: '#e2c24c', INTERNAL_ERROR: '#8b1a1a', NONE: '#e6e6e6', WAITING: '#f2d7a6',
};
export const colourOf = (s: string | undefined): string => STATUS_COLOURS[s ?? 'NONE'] ?? '#999';
export const TERMINAL = new Set(['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR']);
export const fmtMs = (ms: number | null | undefined): string => (ms == null ? '–' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
