//! Ticket mail that no reply or assignment causes: a new ticket told to whoever is to
//! work it, and SLA warnings and breaches found by a sweep.
//!
//! Who hears (the same rule for both): the assignee; else the members of the ticket's
//! team; else the municipality's technicians (a technician or provider-administrator
//! grant on the municipality or its provider, as [`Store::technicians_of`] reads them);
//! plus the watchers. Never the requester (this is mail about working the ticket, and
//! the requester hears of replies already) and never the one who acted. Disabled people
//! and people without an address are passed over, so an unreachable assignee or an empty
//! team hands the mail to the next in line instead of to nobody.

use crate::alerts::TicketHead;
use crate::db::{Store, Tx};
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::notify::{DueTarget, TicketMailKind};
use drifta_core::{Actor, TenantId, UserId};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Breaches are told only while their due time lies within this much of now, so the
/// first sweep after an upgrade (or a long outage) does not mail every ticket that broke
/// its promise months ago.
const BREACH_LOOKBACK_MS: i64 = DAY_MS;
/// A warning is told when its warning instant lies within this much of now (and the due
/// time is still ahead). Longer than the breach's: a due time moved by a pause can put the
/// new warning instant in the past already (by a quarter of the pause and whatever time
/// was spent in warning before it), and the new due time deserves its own warning.
const WARNING_LOOKBACK_MS: i64 = 7 * DAY_MS;
/// Candidates read per target and kind in one sweep; the rest wait for the next sweep
/// (those told drop out of the candidates, so a backlog drains a batch a minute).
const BATCH: i64 = 500;

/// What the sweep tells of a due time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Notice {
    Warning,
    Breach,
}

impl Notice {
    const fn as_str(self) -> &'static str {
        match self {
            Notice::Warning => "warning",
            Notice::Breach => "breach",
        }
    }

    const fn mail(self) -> TicketMailKind {
        match self {
            Notice::Warning => TicketMailKind::SlaWarning,
            Notice::Breach => TicketMailKind::SlaBreach,
        }
    }
}

/// The columns of one target: its due instant and the instant it was met.
const fn columns(target: DueTarget) -> (&'static str, &'static str) {
    match target {
        DueTarget::Response => ("response_due_at", "first_response_at"),
        DueTarget::Resolution => ("resolution_due_at", "resolved_at"),
    }
}

/// A target still to be met: word for word the WHERE clause of the partial indexes in
/// migration 0019 (SQLite uses a partial index only when the query repeats its terms).
fn open_target(target: DueTarget) -> String {
    let (due, met) = columns(target);
    format!(
        "status NOT IN ('resolved', 'closed', 'waiting_requester') AND {met} IS NULL AND {due} IS NOT NULL"
    )
}

/// What mail needs of a ticket, read in the transaction that queues it.
struct TicketFacts {
    number: i64,
    title: String,
    description: String,
    requester: Option<UserId>,
    assignee: Option<UserId>,
    team: Option<String>,
}

impl Tx {
    async fn ticket_facts(
        &mut self,
        tenant: &TenantId,
        ticket_id: &str,
    ) -> Result<Option<TicketFacts>, StoreError> {
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = self
            .fetch_optional(
                Sql::new("SELECT number, title, description, requester_id, assignee_id, team_id FROM tickets WHERE tenant_id = $1 AND id = $2")
                    .arg(tenant.as_str())
                    .arg(ticket_id),
            )
            .await?;
        Ok(row.map(|r| TicketFacts {
            number: r.0,
            title: r.1,
            description: r.2,
            requester: r.3.map(UserId::from_db),
            assignee: r.4.map(UserId::from_db),
            team: r.5,
        }))
    }

    /// Who is told about a ticket that nobody's act addresses to them (see the module
    /// documentation), in a stable order.
    async fn ticket_workers(
        &mut self,
        tenant: &TenantId,
        ticket_id: &str,
        facts: &TicketFacts,
    ) -> Result<Vec<UserId>, StoreError> {
        let mut people: Vec<(String,)> = Vec::new();
        if let Some(assignee) = &facts.assignee {
            people = self
                .fetch_all(
                    Sql::new(
                        "SELECT id FROM users WHERE id = $1 AND disabled = $2 AND email <> ''",
                    )
                    .arg(assignee.as_str())
                    .arg(false),
                )
                .await?;
        }
        if people.is_empty()
            && let Some(team) = &facts.team
        {
            people = self
                .fetch_all(
                    Sql::new("SELECT m.user_id FROM teams tm JOIN team_members m ON m.tenant_id = tm.tenant_id AND m.team_id = tm.id JOIN users u ON u.id = m.user_id WHERE tm.id = $1 AND u.disabled = $2 AND u.email <> '' ORDER BY m.user_id")
                        .arg(team.as_str())
                        .arg(false),
                )
                .await?;
        }
        if people.is_empty() {
            people = self
                .fetch_all(
                    Sql::new(
                        "SELECT DISTINCT u.id FROM users u JOIN role_grants g ON g.user_id = u.id \
                         WHERE g.role IN ('technician', 'provider_admin') AND u.disabled = $1 AND u.email <> '' \
                         AND (g.tenant_id = $2 OR g.tenant_id = (SELECT parent_id FROM tenants WHERE id = $2)) \
                         ORDER BY u.id",
                    )
                    .arg(false)
                    .arg(tenant.as_str()),
                )
                .await?;
        }
        let watchers = self.ticket_watchers(tenant, ticket_id).await?;
        Ok(people
            .into_iter()
            .map(|(id,)| UserId::from_db(id))
            .chain(watchers)
            .filter(|id| Some(id) != facts.requester.as_ref())
            .collect())
    }

    /// Marks a ticket, in the transaction that opens it, as one to tell whoever works it
    /// about. One small row: the mail itself (one per technician) is queued by
    /// [`Store::send_new_ticket_mail`] just after, so opening a ticket stays one short
    /// write however many people hear of it (queued here, 30 technicians cost a create
    /// ~60 statements and its p99 went from 9 ms to 234 ms in drifta-bench).
    pub(crate) async fn notify_new_ticket(
        &mut self,
        tenant: &TenantId,
        ticket_id: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            Sql::new("INSERT INTO ticket_mail_pending (tenant_id, ticket_id, actor_id, actor_name, created_at) VALUES ($1, $2, $3, $4, $5)")
                .arg(tenant.as_str())
                .arg(ticket_id)
                .arg(actor.user_id.as_ref().map(|u| u.to_string()))
                .arg(actor.name.as_str())
                .arg(now),
        )
        .await?;
        Ok(())
    }

    /// Tells whoever is to work a ticket that it was opened. Reads the ticket as it is now,
    /// so an assignee, team or watchers set since count.
    async fn tell_new_ticket(
        &mut self,
        tenant: &TenantId,
        ticket_id: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<(), StoreError> {
        let Some(facts) = self.ticket_facts(tenant, ticket_id).await? else {
            return Ok(());
        };
        let recipients = self.ticket_workers(tenant, ticket_id, &facts).await?;
        let head = TicketHead {
            tenant,
            id: ticket_id,
            number: facts.number,
            title: &facts.title,
        };
        self.notify_ticket(
            head,
            TicketMailKind::New,
            actor,
            &facts.description,
            &recipients,
            now,
        )
        .await?;
        Ok(())
    }
}

impl Store {
    /// Queues the new-ticket mail of up to `limit` tickets opened since the last call (see
    /// [`Tx::notify_new_ticket`]); returns how many tickets were told of. Each is taken in
    /// its own transaction by deleting its pending row, so several nodes may run this at
    /// once and exactly one tells each ticket.
    pub async fn send_new_ticket_mail(&self, limit: i64) -> Result<usize, StoreError> {
        // Most rounds find nothing: the read pool answers without SQLite's writer.
        let pending: Vec<(String, String, Option<String>, String)> = self
            .fetch_all(
                Sql::new("SELECT tenant_id, ticket_id, actor_id, actor_name FROM ticket_mail_pending ORDER BY created_at LIMIT $1")
                    .arg(limit),
            )
            .await?;
        let mut told = 0;
        for (tenant, ticket, actor_id, actor_name) in pending {
            let tenant = TenantId::from_db(tenant);
            let actor = Actor {
                user_id: actor_id.map(UserId::from_db),
                name: actor_name,
                ip: String::new(),
            };
            let now = self.now_ms();
            let mut tx = self.begin().await?;
            let taken = tx
                .execute(
                    Sql::new("DELETE FROM ticket_mail_pending WHERE ticket_id = $1")
                        .arg(ticket.as_str()),
                )
                .await?;
            if taken == 0 {
                continue;
            }
            tx.tell_new_ticket(&tenant, &ticket, &actor, now).await?;
            tx.commit().await?;
            told += 1;
        }
        Ok(told)
    }

    /// Finds response and resolution targets that entered their warning time or were
    /// breached, and queues one mail per (ticket, target, kind, due time) to whoever works
    /// the ticket. Returns how many mails were queued.
    ///
    /// The rule is the queue's (`sla_view` in the web crate): a target still open warns in
    /// the last quarter of the wall-clock span from opening to due, and is breached once
    /// its due time has passed; paused, resolved and closed tickets have none. Only
    /// warnings whose due time is still ahead and breaches of the last 24 hours are told.
    ///
    /// Safe to run from several nodes at once and after restarts: `sla_notices` is written
    /// with the mail, and only the node whose insert took queues it.
    ///
    /// Bounded work: each of the four candidate queries is one range scan on a partial
    /// index of migration 0019 that holds only open targets (not the million tickets): the
    /// targets whose warning began in the last 7 days, or whose due time passed in the
    /// last 24 hours, at most [`BATCH`] each. A sweep therefore reads in proportion to a
    /// week's new tickets at most, and mostly to the few that changed state since the
    /// minute before.
    pub async fn sla_notify_sweep(&self, now_ms: i64) -> Result<usize, StoreError> {
        let mut queued = 0;
        for target in DueTarget::ALL {
            for notice in [Notice::Breach, Notice::Warning] {
                for (tenant, ticket, due) in self.sla_candidates(target, notice, now_ms).await? {
                    queued += self
                        .tell_sla(&tenant, &ticket, target, notice, due, now_ms)
                        .await?;
                }
            }
        }
        Ok(queued)
    }

    /// Tickets whose `target` is in the state `notice` tells of and not yet told, read
    /// outside any transaction (on SQLite: from the read pool, not the writer).
    async fn sla_candidates(
        &self,
        target: DueTarget,
        notice: Notice,
        now: i64,
    ) -> Result<Vec<(TenantId, String, i64)>, StoreError> {
        let (due, _) = columns(target);
        let open = open_target(target);
        let sql = Sql::new(format!(
            "SELECT tenant_id, id, {due} FROM tickets WHERE {open} AND "
        ));
        let sql = match notice {
            // (due - now) * 4 < (due - created), as 4 × the warning instant against the
            // expression index; the due time still ahead.
            Notice::Warning => sql
                .push(&format!("3 * {due} + created_at < "))
                .push_arg(4 * now)
                .push(&format!(" AND 3 * {due} + created_at >= "))
                .push_arg(4 * (now - WARNING_LOOKBACK_MS))
                .push(&format!(" AND {due} >= "))
                .push_arg(now),
            Notice::Breach => sql
                .push(&format!("{due} < "))
                .push_arg(now)
                .push(&format!(" AND {due} >= "))
                .push_arg(now - BREACH_LOOKBACK_MS),
        };
        let rows: Vec<(String, String, i64)> = self
            .fetch_all(
                sql.push(" AND NOT EXISTS (SELECT 1 FROM sla_notices n WHERE n.tenant_id = tickets.tenant_id AND n.ticket_id = tickets.id AND n.target = ")
                    .push_arg(target.as_str())
                    .push(" AND n.kind = ")
                    .push_arg(notice.as_str())
                    .push(&format!(" AND n.due_at = tickets.{due}) LIMIT "))
                    .push_arg(BATCH),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(tenant, id, due)| (TenantId::from_db(tenant), id, due))
            .collect())
    }

    /// Records one notice and queues its mail, in one transaction; nothing when the ticket
    /// moved on since it was read or another sweep told it first.
    async fn tell_sla(
        &self,
        tenant: &TenantId,
        ticket_id: &str,
        target: DueTarget,
        notice: Notice,
        due: i64,
        now: i64,
    ) -> Result<usize, StoreError> {
        let (due_column, _) = columns(target);
        let mut tx = self.begin().await?;
        // Read again under the transaction: a reply, a pause or a resolution may have come
        // between the candidates' read and now.
        let still: Option<(String,)> = tx
            .fetch_optional(
                Sql::new(format!(
                    "SELECT id FROM tickets WHERE tenant_id = $1 AND id = $2 AND {open} AND {due_column} = $3",
                    open = open_target(target),
                ))
                .arg(tenant.as_str())
                .arg(ticket_id)
                .arg(due),
            )
            .await?;
        if still.is_none() {
            return Ok(0);
        }
        let took = tx
            .execute(
                Sql::new("INSERT INTO sla_notices (tenant_id, ticket_id, target, kind, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, ticket_id, target, kind, due_at) DO NOTHING")
                    .arg(tenant.as_str())
                    .arg(ticket_id)
                    .arg(target.as_str())
                    .arg(notice.as_str())
                    .arg(due)
                    .arg(now),
            )
            .await?;
        if took == 0 {
            return Ok(0);
        }
        let Some(facts) = tx.ticket_facts(tenant, ticket_id).await? else {
            return Ok(0);
        };
        let recipients = tx.ticket_workers(tenant, ticket_id, &facts).await?;
        let head = TicketHead {
            tenant,
            id: ticket_id,
            number: facts.number,
            title: &facts.title,
        };
        // The notice is kept even when nobody can be told, so the ticket is not a
        // candidate again every minute.
        let queued = tx
            .notify_ticket_due(
                head,
                notice.mail(),
                &Actor::system("drifta"),
                "",
                Some((target, due)),
                &recipients,
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(queued)
    }
}
