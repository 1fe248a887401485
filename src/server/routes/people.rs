//! `GET /api/people/judges`: the people an organiser may pick as a contest's judges (issue 16) —
//! the enabled accounts holding a role in a unit the caller reviews or administers, with their
//! name and unit, so the round form offers them instead of usernames typed from memory.
//!
//! Rules: only a reviewer or an administrator may ask (a cadre organises no contest: 403); the
//! answer names only accounts inside the caller's own subtrees (a district's reviewer never learns
//! who works in the sibling district or above), and only what the organiser prints on the results
//! — username, full name, unit — never grants, roles or anything of the password. A judge from
//! outside the subtree (a province's expert at a district contest) is still typed by username;
//! the contest's own rule decides who may judge.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::api::JudgeCandidate;
use crate::server::AppState;
use crate::server::error::ApiError;
use crate::server::session::Caller;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/people/judges", get(judges))
}

async fn judges(State(app): State<Arc<AppState>>, caller: Caller) -> Result<Json<Vec<JudgeCandidate>>, ApiError> {
    let access = &caller.access;
    if access.reviewable().next().is_none() && !access.manages_anything() {
        return Err(ApiError::Forbidden("Chỉ người bình xét hoặc quản trị viên mới xem được danh sách người có thể làm giám khảo.".into()));
    }
    let inside = |unit: &str| access.can_review(unit) || access.can_manage(unit);
    let mut people: Vec<JudgeCandidate> = app
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .filter_map(|u| {
            let unit = u.grants.iter().find(|g| inside(&g.unit))?.unit.clone();
            let unit_name = caller.tree.get(&unit).map_or_else(|| unit.clone(), |x| x.name.clone());
            Some(JudgeCandidate { username: u.username, display_name: u.display_name, unit, unit_name })
        })
        .collect();
    people.sort_by(|a, b| (&a.unit_name, &a.display_name, &a.username).cmp(&(&b.unit_name, &b.display_name, &b.username)));
    Ok(Json(people))
}
