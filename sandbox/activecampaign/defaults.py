"""Neutral values for the many list/campaign/message columns the sync never uses, so answers carry AC's keys."""

from __future__ import annotations

from typing import Any

LIST_DEFAULTS: dict[str, Any] = {
    "p_use_tracking": "1", "p_use_analytics_read": "0", "p_use_analytics_link": "0", "p_use_twitter": "0",
    "p_use_facebook": "0", "p_embed_image": "1", "p_use_captcha": "1", "send_last_broadcast": "0", "private": "0",
    "analytics_domains": None, "analytics_source": "", "analytics_ua": "", "twitter_token": "",
    "twitter_token_secret": "", "facebook_session": None, "carboncopy": None, "subscription_notify": None,
    "unsubscription_notify": None, "require_name": "0", "get_unsubscribe_reason": "0", "to_name": "Subscriber",
    "optinoptout": "1", "sender_name": "", "sender_addr1": "", "sender_addr2": "", "sender_city": "",
    "sender_state": "", "sender_zip": "", "sender_country": "", "sender_phone": "", "sender_url": "",
    "sender_reminder": "", "fulladdress": "", "optinmessageid": "0", "optoutconf": "0", "deletestamp": None,
    "udate": None,
}

CAMPAIGN_DEFAULTS: dict[str, Any] = {
    "type": "single", "userid": "1", "segmentid": "0", "bounceid": "-1", "realcid": "0", "sendid": "0",
    "threadid": "0", "seriesid": "0", "formid": "0", "basetemplateid": "", "basemessageid": "0", "addressid": "0",
    "source": "web", "ldate": None, "send_amt": "0", "total_amt": "0", "opens": "0", "uniqueopens": "0",
    "linkclicks": "0", "uniquelinkclicks": "0", "subscriberclicks": "0", "forwards": "0", "uniqueforwards": "0",
    "hardbounces": "0", "softbounces": "0", "unsubscribes": "0", "unsubreasons": "0", "updates": "0",
    "socialshares": "0", "replies": "0", "uniquereplies": "0", "status": "0", "public": "1", "mail_transfer": "0",
    "mail_send": "0", "mail_cleanup": "0", "mailer_log_file": "0", "tracklinks": "all", "tracklinksanalytics": "0",
    "trackreads": "1", "trackreadsanalytics": "1", "analytics_campaign_name": "", "tweet": "0", "facebook": "0",
    "survey": "", "embed_images": "0", "htmlunsub": "0", "textunsub": "0", "htmlunsubdata": None,
    "textunsubdata": None, "recurring": "day1", "willrecur": "0", "split_type": "even", "split_content": "0",
    "split_offset": "2", "split_offset_type": "day", "split_winner_messageid": "0", "split_winner_awaiting": "0",
    "responder_offset": "0", "responder_type": "subscribe", "responder_existing": "0", "reminder_field": "sdate",
    "reminder_format": None, "reminder_type": "month_day", "reminder_offset": "0", "reminder_offset_type": "day",
    "reminder_offset_sign": "+", "reminder_last_cron_run": None, "activerss_interval": "day1",
    "activerss_url": None, "activerss_items": "10", "ip4": "0", "laststep": "designer", "managetext": "0",
    "schedule": "0", "scheduleddate": None, "waitpreview": "0", "deletestamp": None, "replysys": "0",
    "user": "1", "automation": None,
}

MESSAGE_DEFAULTS: dict[str, Any] = {
    "userid": "1", "ed_instanceid": "0", "ed_version": "1", "fromname": "Sandbox",
    "fromemail": "noreply@sandbox.example", "reply2": "", "priority": "3", "charset": "utf-8",
    "encoding": "quoted-printable", "format": "mime", "preheader_text": "", "htmlfetch": "now", "textfetch": "now",
    "hidden": "0", "preview_mime": "", "preview_data": None, "user": "1",
}
