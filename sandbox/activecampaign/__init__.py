"""ActiveCampaign API stand-in (loopback or in-process), written from the AC docs only.

    from sandbox.activecampaign import create_app
    app = create_app(clock=None, api_token="sandbox-ac-key", enforce_rate_limit=True, seed=1,
                     seed_contacts=0, plan="enterprise")

Real routes: ``/api/3/...`` (every one exists in the official OpenAPI document, see
tests/sandbox_ac/test_openapi.py) and v1 ``/admin/api.php?api_action=`` ``campaign_send``,
``campaign_report_{open,link,bounce,unsubscription}_list`` (v1_reports.py): users/me; contacts (list
with the documented filters, CRUD, contact/sync, sub-resources fieldValues, contactLists, contactTags,
contactAutomations, accountContacts, trackingLogs, bounceLogs, scoreValues), activities; tags, contactTags, lists,
contactLists; fields, fieldOption/bulk, fieldRels, fieldValues; accounts, accountContacts, accountCustomFieldMeta/Data;
import/bulk_import, import/info; customObjects schemas/records; automations, contactAutomations, campaigns (with
campaigns/{id}/links), messages, scores; webhooks, webhook/events.
Control routes: ``/_sandbox/{state,reset,seed,faults,plan,switches,clock,requests,events}``, ``/_sandbox/bounce``,
``/_sandbox/unsubscribe`` / ``/_sandbox/subscribe`` (a person leaving or joining a list outside a campaign),
``/_sandbox/global_unsubscribe``,
``/_sandbox/campaigns/{id}/events`` (open, click, reply, forward, unsubscribe,
bounce), ``/_sandbox/automations/{id}/finish``, ``/_sandbox/automations/{id}/webhook``, ``/_sandbox/scores``,
``/_sandbox/webhooks/{deliver,deliveries}`` (control_events.py says what each takes).
Behaviour no primary source confirms is listed in ASSUMPTIONS.md with a switch each.
tests/sandbox_ac/test_fuzz.py fuzzes every served documented operation with requests generated from the official
document (schemathesis, plus every documented request body with each field given each other JSON type): no 5xx,
answers conform to the document's schemas (tests/sandbox_ac/conform.py lists the relaxations and why).

``app.state.ac`` is the backing :class:`~sandbox.activecampaign.state.ACState`. Tests may use:

- data: ``ac.contacts`` (id -> ``Contact``: id, email, first_name, last_name, phone, cdate, udate as epoch
  seconds, field_values {field id: fieldValue id}), ``ac.field_values``, ``ac.tags``, ``ac.contact_tags``,
  ``ac.lists``, ``ac.contact_lists``, ``ac.fields``, ``ac.field_options``, ``ac.field_rels``, ``ac.accounts``,
  ``ac.account_contacts``, ``ac.acf_meta``, ``ac.acf_data``, ``ac.automations``, ``ac.contact_automations``,
  ``ac.campaigns``, ``ac.messages``, ``ac.activities``, ``ac.tracking_logs``, ``ac.sends`` (v1 sends),
  ``ac.imports`` (batchId -> ``ImportBatch``), ``ac.co_schemas``, ``ac.co_records`` (schemaId -> id -> record)
- ``ac.contacts_by_email(email)`` / ``ac.contact_by_email(email)``; ``ac.contacts_with_tag(tag_id)``,
  ``ac.contacts_on_list(list_id, status)`` (ids, as reads show them), ``ac.set_list_status(contact, list, status)``
  (0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced), ``ac.bounce(contact, kind="hard"|"soft", list_id=)``,
  ``ac.unsubscribe_globally(contact)``, ``ac.bounce_logs``
- webhooks: ``ac.webhooks`` (id -> record with ``active``), ``ac.webhook_transport = httpx.ASGITransport(app=...)``
  (or any ``httpx.AsyncBaseTransport``; None posts over real HTTP), ``ac.webhook_deliveries`` (``events.Delivery``:
  url, event, form, status, error), ``ac.outbox`` (posted after each request; ``await webhooks.deliver_pending(ac)``)
- ``ac.count_requests(method=, route=, path=, status=)``; ``ac.requests`` (method, path, route template, status,
  time; never query strings); a dropped request is logged with status -1
- ``ac.switches`` (validated dict-like; ``ac.switches["udate_on_tag_change"] = True``; ``.reset()``,
  ``.describe()``); ``ac.set_plan("professional")``; ``ac.has_feature("accounts")``
- ``ac.inject_fault(error_rate=, error_status=, latency=, force_429=, drop_next=, import_fail_pattern=)``,
  ``ac.clear_faults()`` (see faults.py for how a dropped connection looks)
- ``ac.process_due_imports()`` (what every real request does first)
- marketing (marketing.py): ``record_event(ac, campaign, contact, "open")``, ``finish_automation(ac, contact, id)``,
  ``set_score(ac, contact, score, value)``, ``ac.links`` (campaign links), ``ac.campaign_events``, ``ac.scores``,
  ``ac.score_values``, ``ac.add_contact_automation(contact, automation_id)``; seeded campaigns 1-2 are sent, 3 a
  draft (campaign_send refuses it), each with the read tracker and one URL link
- ``ac.reset(seed_contacts=0)``, ``seed_account(ac, n)`` (n=0: the catalogue only);
  ``ac.add_tracking_log(contact_id, event, value)``,
  ``ac.add_activity(contact_id, reference_type, reference_id, action)``
- ``ac.clock`` (the injected TimeSource, else a ``SandboxClock``), ``ac.rps`` / ``ac.import_multi`` /
  ``ac.import_single`` (sliding windows)

Scale: every lookup a request makes goes through an index ``ACState`` keeps in step (index.py): contacts by email,
by tag, by list and status, by automation, by ``udate`` (``filters[updated_after]``), the email order; a contact's
tags, lists, account link, automations, activities, tracking logs, bounce logs and scores; accounts by name and their
links and custom-field data; field values by field. Records added or deleted directly are picked up by themselves;
after changing a key in place (``ac.accounts[i]["name"]``, ``ac.account_contacts[i]["account"]``, a tag's name) call
``ac.account_renamed(i)`` / ``ac.account_relinked(i)`` / ``ac.tag_renamed(i)``. ``python -m bench.ac_sandbox_scale``
measures the main requests at 1,000,000 contacts (figures in its docstring's run and bench/figures).

Latency: ``ac.set_latency("realistic")`` (or ``POST /_sandbox/latency``) makes each real request answer 150-300 ms
later (5 % up to 1.2 s more; bulk imports 300-600 ms) on the sandbox clock, without sleeping: latency.py. The
``latency`` fault still sleeps for real (loopback only).

Rate limit: with ``enforce_rate_limit`` the 6th request inside any 1-second window (sandbox clock) answers 429
with ``Retry-After`` (whole seconds, ≥ 1); refused requests do not use budget. Bulk imports: 100 multi-contact
and 20 single-contact calls per sliding minute, answered with AC's HTTP 400; a batch completes
``import_delay_seconds`` after it was queued, observed by the next request of any kind.
"""

from .app import create_app

__all__ = ["create_app"]
