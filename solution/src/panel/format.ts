import type { ActivityType, ListStatus, NotSyncedReason } from "../api/seller-contract";

export const ACTIVITY_LABELS: Record<ActivityType, string> = {
  campaign_send: "Campaign sent",
  open: "Opened",
  click: "Clicked",
  reply: "Replied",
  bounce: "Bounced",
  unsubscribe: "Unsubscribed",
  automation_entered: "Entered automation",
  automation_finished: "Finished automation",
  form: "Form submitted",
  site_visit: "Site visit",
  event: "Tracked event",
};

export const LIST_STATUS_LABELS: Record<ListStatus, string> = {
  active: "Subscribed",
  unsubscribed: "Unsubscribed",
  bounced: "Bounced",
  unconfirmed: "Unconfirmed",
};

export const NOT_SYNCED: Record<NotSyncedReason, string> = {
  no_email: "This record has no email address, so it has no ActiveCampaign contact.",
  outside_criteria: "This record does not match the sync criteria, so it does not sync to ActiveCampaign.",
  error: "Syncing this record failed.",
  not_yet_synced: "This record has not synced yet; it will at the next sync run.",
};

/** A time in the user's locale, with the full ISO time kept for the machine-readable attribute. */
export function when(iso: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}
