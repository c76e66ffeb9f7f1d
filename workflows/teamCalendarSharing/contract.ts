/** One per team calendar: a newer save replaces a run still going (it reads the members afresh). */
export function calendarSharingWorkflowId(tenantId: string, calendarId: string): string {
  return `calendar-share:${tenantId}:${calendarId}`;
}
