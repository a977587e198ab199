//! Credit changes and the survival tier they imply (SPEC §7.2), applied atomically in the
//! caller's transaction: balance, tier, the `system` action of a tier change and its events.

use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::actions::{self, NewAction};
use super::events::{self, NewEvent};
use super::{Sql, StoreError, StoreResult, get_bool, get_word};
use crate::clock::Millis;
use crate::domain::{ActionStatus, AgentId, AgentStatus, Tier, TierRules, Usdc};

/// What a credit change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditOutcome {
    /// Balance after the change.
    pub credits: Usdc,
    /// Tier before.
    pub tier_before: Tier,
    /// Tier after.
    pub tier_after: Tier,
}

/// Adds `delta` (negative for a debit) to an agent's credits, re-derives its tier
/// and records a tier change. `None` when the agent does not exist;
/// [`StoreError::BalanceOutOfBounds`] (and nothing changed) when the balance would leave
/// ±[`Usdc::MAX`].
#[tracing::instrument(skip_all, fields(agent_id = %agent_id, delta))]
pub async fn apply(
    conn: &mut AnyConnection,
    rules: &TierRules,
    agent_id: AgentId,
    delta: Usdc,
    now: Millis,
) -> StoreResult<Option<CreditOutcome>> {
    // One atomic statement: concurrent changes (even through other replicas) serialize on the row.
    let mut sql = Sql::new("UPDATE agents SET credits = credits + ");
    sql.bind(delta).push(", funded = CASE WHEN credits + ").bind(delta).push(" >= ");
    sql.bind(rules.funded_threshold()).push(" THEN TRUE ELSE funded END, updated_at = ").bind(now);
    sql.push(" WHERE id = ").bind(agent_id).push(" AND credits + ").bind(delta);
    sql.push(" BETWEEN ").bind(Usdc::MAX.negated()).push(" AND ").bind(Usdc::MAX);
    sql.push(" RETURNING credits, funded, survival_tier, status, api_key_id");
    let Some(row) = sql.fetch_optional(&mut *conn).await? else {
        return match super::agents::access(conn, agent_id).await? {
            Some(_) => Err(StoreError::BalanceOutOfBounds),
            None => Ok(None),
        };
    };
    let credits: Usdc = row.try_get("credits")?;
    let funded = get_bool(&row, "funded")?;
    let tier_before: Tier = get_word(&row, "survival_tier")?;
    let status: AgentStatus = get_word(&row, "status")?;
    let owner: String = row.try_get("api_key_id")?;
    // Termination is final: the books keep moving, the tier does not.
    let tier_after = if status == AgentStatus::Terminated { tier_before } else { rules.tier(credits, funded) };
    let payload = json!({ "agentId": agent_id, "delta": delta, "credits": credits });
    let event = NewEvent::new("agent.credits_changed", agent_id, &payload).owned_by(Some(&owner)).for_agent(agent_id);
    events::append(conn, &[event], now).await?;
    if tier_after != tier_before {
        record_tier_change(conn, agent_id, &owner, tier_before, tier_after, credits, now).await?;
    }
    Ok(Some(CreditOutcome { credits, tier_before, tier_after }))
}

async fn record_tier_change(
    conn: &mut AnyConnection,
    agent_id: AgentId,
    owner: &str,
    from: Tier,
    to: Tier,
    credits: Usdc,
    now: Millis,
) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE agents SET survival_tier = ");
    sql.bind(to.as_str());
    if to == Tier::Terminated {
        sql.push(", status = ").bind(AgentStatus::Terminated.as_str());
    }
    sql.push(" WHERE id = ").bind(agent_id);
    sql.execute(&mut *conn).await?;
    let mut events = vec![
        NewEvent::new(
            "agent.tier_changed",
            agent_id,
            &json!({ "agentId": agent_id, "from": from, "to": to, "credits": credits }),
        )
        .owned_by(Some(owner))
        .for_agent(agent_id),
    ];
    if to == Tier::Terminated {
        // A terminated agent renews nothing (SPEC §7.2).
        let mut sql = Sql::new("UPDATE domains SET auto_renew = FALSE, updated_at = ");
        sql.bind(now).push(" WHERE auto_renew = TRUE AND agent_id = ").bind(agent_id);
        let domains = sql.execute(&mut *conn).await?.rows_affected();
        events.push(
            NewEvent::new("agent.terminated", agent_id, &json!({ "agentId": agent_id, "autoRenewDisabled": domains }))
                .owned_by(Some(owner))
                .for_agent(agent_id),
        );
    }
    events::append(conn, &events, now).await?;
    let action = NewAction {
        agent_id: agent_id.to_owned(),
        action: format!("tier {} → {}", from.as_str(), to.as_str()),
        category: "system".to_owned(),
        details: Some(format!("credits {}", credits)),
        status: ActionStatus::Completed,
        autonomous: true,
    };
    actions::insert_system(conn, owner, &action, now).await?;
    Ok(())
}
