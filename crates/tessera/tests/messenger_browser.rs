//! The Messenger in real headless Chromium, on the demo customer website
//! (`http://localhost:PORT`, another origin than Tessera's `127.0.0.1`): a
//! visitor chats, an agent answers from the console, the answer arrives live,
//! and the open chat with its history survives navigation to another page.

mod common;

use std::time::Duration;

use common::browser::{Driver, Options, PATIENCE, POLL, browser_available};
use common::{Server, assert_jar_matches_registry, cookie_registry};
use fantoccini::{Client, Locator};

/// Polls until `check` holds (or fails the test after [`PATIENCE`]).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while start.elapsed() < PATIENCE {
        if check().await {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("timed out waiting for {what}");
}

async fn frame_text(client: &Client) -> String {
    let _ = client.enter_parent_frame().await;
    if client.enter_frame(0).await.is_err() {
        return String::new();
    }
    let text = match client.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let _ = client.enter_parent_frame().await;
    text
}

async fn click(client: &Client, locator: Locator<'_>) {
    let element = client.wait().at_most(PATIENCE).for_element(locator).await.expect("the element appears");
    element.click().await.expect("click");
}

#[tokio::test]
async fn a_visitor_on_a_customer_site_chats_with_an_agent_live_and_the_chat_survives_navigation() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start_with(&dir.path().join("data"), &["--demo"]);
    let demo = server.demo.clone().expect("demo logins");
    let registry = cookie_registry(&dir.path().join("data"));
    let driver = Driver::start().await;
    let visitor = driver.open(&dir.path().join("visitor"), Options::default()).await;
    let agent = driver.open(&dir.path().join("agent"), Options::default()).await;

    // The agent opens the console first, so the visitor sees agents available.
    agent.goto(&format!("{}/agent/login", server.base)).await.expect("agent login page");
    for (id, value) in
        [("#site_id", demo.site_id.as_str()), ("#email", &demo.agent_email), ("#password", &demo.agent_password)]
    {
        let field = agent.find(Locator::Css(id)).await.expect("login field");
        field.clear().await.ok();
        field.send_keys(value).await.expect("type");
    }
    click(&agent, Locator::Css("form.stack button[type=submit]")).await;
    eventually("the agent's login", || async { agent.current_url().await.is_ok_and(|u| u.path() == "/agent/account") })
        .await;
    agent.goto(&format!("{}/agent/console", server.base)).await.expect("console");

    visitor.goto(&format!("{}/", demo.shop)).await.expect("the shop");
    click(&visitor, Locator::Css("#consent-yes")).await;
    click(&visitor, Locator::XPath("//button[contains(., 'Chat with us')]")).await;
    visitor.enter_frame(0).await.expect("the Messenger frame");
    let body = visitor.wait().at_most(PATIENCE).for_element(Locator::Css("#ts-body")).await.expect("message box");
    body.send_keys("Do you ship to Denmark?").await.expect("type");
    click(&visitor, Locator::Css("form button[type=submit]")).await;
    visitor.enter_parent_frame().await.expect("back to the page");

    // The console's queue shows the new chat without a reload.
    click(&agent, Locator::XPath("//ul[contains(@class,'list')]//button")).await;
    let reply = agent.wait().at_most(PATIENCE).for_element(Locator::Css("#reply-body")).await.expect("reply box");
    eventually("the visitor's message in the console", || async {
        agent.find(Locator::Css(".log")).await.ok().is_some()
            && agent.source().await.is_ok_and(|s| s.contains("Do you ship to Denmark?"))
    })
    .await;
    reply.send_keys("Yes, in two days.").await.expect("type");
    click(&agent, Locator::XPath("//button[normalize-space()='Send']")).await;

    eventually("the agent's answer in the visitor's Messenger", || async {
        frame_text(&visitor).await.contains("Yes, in two days.")
    })
    .await;

    // Another page of the shop: the chat is still open, with its history.
    visitor.goto(&format!("{}/pricing", demo.shop)).await.expect("another page");
    eventually("the history after navigation", || async {
        let text = frame_text(&visitor).await;
        text.contains("Do you ship to Denmark?") && text.contains("Yes, in two days.")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_jar_matches_registry(&visitor, &registry).await;
    assert_jar_matches_registry(&agent, &registry).await;
    visitor.close().await.ok();
    agent.close().await.ok();
}
