/**
 * metav1.MicroTime: RFC 3339 in UTC with exactly six fractional digits, e.g.
 * `2026-01-02T03:04:05.123456Z`. `epochMs` may carry a fraction of a millisecond.
 */
export function formatMicroTime(epochMs: number): string {
  const micros = Math.round(epochMs * 1000);
  const wholeMs = Math.floor(micros / 1000);
  const subMs = micros - wholeMs * 1000;
  const iso = new Date(wholeMs).toISOString(); // 2026-01-02T03:04:05.123Z
  return `${iso.slice(0, -1)}${String(subMs).padStart(3, '0')}Z`;
}
