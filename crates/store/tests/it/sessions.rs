use crate::support::{hasher, provider_with, user_with};
use drifta_core::clock::ManualClock;
use drifta_core::{Role, TokenId};
use drifta_store::StoreError;
use drifta_store::testing::backends;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

const IDLE: SignedDuration = SignedDuration::from_mins(30);

#[tokio::test]
async fn sessions_expire_when_idle_and_end_on_disable() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(
            Timestamp::from_second(1_800_000_000).unwrap(),
        ));
        let store = db.store.clone().with_clock(clock.clone());
        let (_, munis, scope) = provider_with(&store, 1).await;
        let user = user_with(
            &store,
            &scope,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;

        let (cookie, session) = store
            .create_session(&user, "127.0.0.1", IDLE)
            .await
            .unwrap();
        assert_ne!(
            session.token_hash, cookie,
            "the cookie itself must not be stored"
        );
        let (found, found_user) = store
            .session_by_cookie(&cookie, IDLE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found_user.id, user.id);
        assert_eq!(found.csrf_token, session.csrf_token);

        // Activity slides the expiry ...
        clock.advance(SignedDuration::from_mins(20));
        assert!(
            store
                .session_by_cookie(&cookie, IDLE)
                .await
                .unwrap()
                .is_some()
        );
        clock.advance(SignedDuration::from_mins(20));
        assert!(
            store
                .session_by_cookie(&cookie, IDLE)
                .await
                .unwrap()
                .is_some(),
            "{}",
            db.label
        );
        // ... idleness ends it.
        clock.advance(SignedDuration::from_mins(31));
        assert!(
            store
                .session_by_cookie(&cookie, IDLE)
                .await
                .unwrap()
                .is_none(),
            "{}",
            db.label
        );

        let (cookie, _) = store.create_session(&user, "", IDLE).await.unwrap();
        store.set_disabled(&scope, &user.id, true).await.unwrap();
        assert!(
            store
                .session_by_cookie(&cookie, IDLE)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .session_by_cookie("not-a-cookie", IDLE)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_only() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, scope) = provider_with(store, 1).await;
        let user = user_with(
            store,
            &scope,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let (mine, _) = store.create_session(&user, "", IDLE).await.unwrap();
        let (other, _) = store.create_session(&user, "", IDLE).await.unwrap();
        let own_scope = store.scope_for(&user, "").await.unwrap();
        let hash = hasher().hash("another long password").unwrap();
        store
            .set_password(&own_scope, &user.id, &hash, Some(&mine))
            .await
            .unwrap();
        assert!(
            store
                .session_by_cookie(&mine, IDLE)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .session_by_cookie(&other, IDLE)
                .await
                .unwrap()
                .is_none(),
            "{}",
            db.label
        );
        let (_, stored) = store.find_login(&user.username).await.unwrap().unwrap();
        assert!(
            hasher()
                .verify("another long password", &stored.unwrap())
                .unwrap()
        );
    }
}

#[tokio::test]
async fn api_tokens_are_hashed_revocable_and_die_with_the_account() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, scope) = provider_with(store, 1).await;
        let user = user_with(
            store,
            &scope,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let own = store.scope_for(&user, "").await.unwrap();
        let (plain, token) = store.create_token(&own, "backup script").await.unwrap();
        assert!(plain.starts_with("drifta_"));
        assert!(plain.starts_with(&token.prefix));
        assert_eq!(
            store.user_for_token(&plain).await.unwrap().unwrap().id,
            user.id
        );
        assert!(
            store
                .user_for_token("drifta_wrong")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.list_tokens(&own).await.unwrap().len(), 1);

        store.revoke_token(&own, &token.id).await.unwrap();
        store.revoke_token(&own, &token.id).await.unwrap();
        assert!(
            store.user_for_token(&plain).await.unwrap().is_none(),
            "{}",
            db.label
        );
        assert!(matches!(
            store.revoke_token(&own, &TokenId::generate()).await,
            Err(StoreError::NotFound)
        ));

        let (plain, _) = store.create_token(&own, "second").await.unwrap();
        store.set_disabled(&scope, &user.id, true).await.unwrap();
        assert!(store.user_for_token(&plain).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn login_failures_count_within_the_window() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(
            Timestamp::from_second(1_800_000_000).unwrap(),
        ));
        let store = db.store.clone().with_clock(clock.clone());
        let window = SignedDuration::from_mins(15);
        let keys = vec!["user:kari".to_string(), "ip:10.0.0.1".to_string()];
        for _ in 0..3 {
            store.record_login_failure(&keys, window).await.unwrap();
        }
        assert_eq!(
            store
                .recent_login_failures("user:kari", window)
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            store
                .recent_login_failures("ip:10.0.0.1", window)
                .await
                .unwrap(),
            3
        );
        store.clear_login_failures("user:kari").await.unwrap();
        assert_eq!(
            store
                .recent_login_failures("user:kari", window)
                .await
                .unwrap(),
            0
        );
        clock.advance(SignedDuration::from_mins(16));
        assert_eq!(
            store
                .recent_login_failures("ip:10.0.0.1", window)
                .await
                .unwrap(),
            0,
            "{}",
            db.label
        );
    }
}
