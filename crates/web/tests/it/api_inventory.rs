//! The inventory through `/api/v1`: items, relations and impact, life cycle, suppliers and
//! contracts, ticket links and item fields, each within the token owner's scope.

use crate::kb::tenant_id;
use crate::support::{TestServer, api_token, client, servers};
use serde_json::{Value, json};

/// A token owner talking to one server.
struct Api<'a> {
    server: &'a TestServer,
    token: String,
    client: reqwest::Client,
}

impl<'a> Api<'a> {
    async fn new(server: &'a TestServer, username: &str) -> Api<'a> {
        Api {
            server,
            token: api_token(server, username).await,
            client: client(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.bearer_auth(&self.token).send().await.unwrap();
        let status = res.status().as_u16();
        if status >= 400 {
            assert_eq!(
                res.headers()["content-type"],
                "application/problem+json",
                "{}: errors are problems",
                self.server.label
            );
        }
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(path))).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(self.url(path)).json(&body))
            .await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.put(self.url(path)).json(&body)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.client.delete(self.url(path))).await
    }

    fn url(&self, path: &str) -> String {
        self.server.url(&format!("/api/v1{path}"))
    }

    /// Creates an item and returns its id, asserting it was created.
    async fn item(&self, body: Value) -> String {
        let (status, item) = self.post("/items", body).await;
        assert_eq!(status, 201, "{}: {item}", self.server.label);
        item["id"].as_str().unwrap().to_string()
    }
}

/// The first error of a problem: (status, field, code).
fn problem(answer: &(u16, Value)) -> (u16, &str, &str) {
    let e = &answer.1["errors"][0];
    (
        answer.0,
        e["field"].as_str().unwrap_or_default(),
        e["code"].as_str().unwrap_or_default(),
    )
}

fn ids(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn items_are_created_listed_read_and_replaced() {
    for server in servers().await {
        let label = server.label;
        let tech = Api::new(&server, "tekniker.nord").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;

        let (status, item) = tech
            .post(
                "/items",
                json!({
                    "tenant_id": fjordvik, "item_type": "virtual_machine", "name": "Zebrafisk SQL",
                    "hostname": "ZEBRAFISK-SQL01", "owner": "IT-avdelingen",
                    "warranty_until": "2027-06-30",
                    "attributes": {"cpu_cores": 4, "operating_system": "Windows Server 2022", "ip_address": ""}
                }),
            )
            .await;
        assert_eq!(status, 201, "{label}: {item}");
        let id = item["id"].as_str().unwrap().to_string();
        assert_eq!(item["item_type"], "virtual_machine");
        assert_eq!(item["lifecycle"], "deployed", "the default start");
        assert_eq!(item["hostname"], "zebrafisk-sql01");
        assert_eq!(item["tenant_name"], "Fjordvik kommune");
        assert_eq!(
            item["attributes"],
            json!({"cpu_cores": "4", "operating_system": "Windows Server 2022"}),
            "numbers become text, empty values are left out"
        );
        assert!(item["disposal"].is_null());

        let (status, got) = tech.get(&format!("/items/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(got, item);

        let second = tech
            .item(json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "Zebrafisk PC", "lifecycle": "in_stock", "serial_number": "ZBF1234XYZ"}))
            .await;
        // The demo has an inventory of its own: every list here is narrowed to this test's.
        let (status, list) = tech
            .get(&format!(
                "/items?tenant={fjordvik}&type=virtual_machine&q=zebrafisk"
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(ids(&list), vec![id.as_str()], "{label}");
        assert!(list["next_offset"].is_null());
        let (_, list) = tech
            .get(&format!("/items?tenant={fjordvik}&q=zebrafisk&limit=1"))
            .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert_eq!(list["next_offset"], 1);
        let (_, page2) = tech
            .get(&format!(
                "/items?tenant={fjordvik}&q=zebrafisk&limit=1&offset=1"
            ))
            .await;
        assert_ne!(ids(&page2), ids(&list));
        assert!(page2["next_offset"].is_null());
        let (_, in_stock) = tech.get("/items?q=zebrafisk&lifecycle=in_stock").await;
        assert_eq!(ids(&in_stock), vec![second.as_str()]);
        let (_, found) = tech.get("/items?q=zebrafisk-sql01").await;
        assert_eq!(
            ids(&found),
            vec![id.as_str()],
            "{label}: found by host name"
        );
        let (_, found) = tech.get("/items?q=zbf1234xyz").await;
        assert_eq!(ids(&found), vec![second.as_str()], "{label}: by serial");
        let (_, ending) = tech
            .get("/items?q=zebrafisk&warranty_until=2027-12-31")
            .await;
        assert_eq!(ids(&ending), vec![id.as_str()]);
        let (_, ending) = tech
            .get("/items?q=zebrafisk&warranty_until=2027-01-01")
            .await;
        assert!(ids(&ending).is_empty());

        // PUT replaces the recorded fields: what is left out is cleared.
        let (status, changed) = tech
            .put(
                &format!("/items/{id}"),
                json!({"name": "Zebrafisk SQL 01", "hostname": "zebrafisk-sql01", "attributes": {"cpu_cores": "08", "memory_gb": 64}}),
            )
            .await;
        assert_eq!(status, 200, "{label}: {changed}");
        assert_eq!(changed["name"], "Zebrafisk SQL 01");
        assert_eq!(changed["owner"], "");
        assert!(changed["warranty_until"].is_null());
        assert_eq!(
            changed["attributes"],
            json!({"cpu_cores": "8", "memory_gb": "64"})
        );
        assert_eq!(changed["item_type"], "virtual_machine");
        assert_eq!(changed["created_at"], item["created_at"]);

        // Refusals name the field and the code.
        let bad = |attributes: Value| json!({"tenant_id": fjordvik, "item_type": "virtual_machine", "name": "VM", "attributes": attributes});
        let answer = tech.post("/items", bad(json!({"cpu_cores": "many"}))).await;
        assert_eq!(
            problem(&answer),
            (422, "attributes.cpu_cores", "bad-integer"),
            "{label}: {}",
            answer.1
        );
        let answer = tech.post("/items", bad(json!({"colour": "blue"}))).await;
        assert_eq!(
            problem(&answer),
            (422, "attributes.colour", "unknown-field")
        );
        let answer = tech.post("/items", bad(json!({"cpu_cores": [4]}))).await;
        assert_eq!(problem(&answer), (422, "attributes.cpu_cores", "bad-value"));
        let answer = tech
            .put(
                &format!("/items/{id}"),
                json!({"name": "x", "attributes": {"memory_gb": "lots"}}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (422, "attributes.memory_gb", "bad-integer")
        );
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "spaceship", "name": "Enterprise"}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (422, "item_type", "item-type-unknown"),
            "{label}: {}",
            answer.1
        );
        let answer = tech
            .post("/items", json!({"tenant_id": fjordvik, "name": "No type"}))
            .await;
        assert_eq!(problem(&answer), (422, "item_type", "item-type-unknown"));
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "x", "lifecycle": "lost"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "lifecycle", "lifecycle-unknown"));
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "x", "lifecycle": "disposed"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "lifecycle", "lifecycle-transition"));
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": ""}),
            )
            .await;
        assert_eq!(problem(&answer).0, 422);
        assert_eq!(problem(&answer).1, "name");
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "x", "purchased_on": "31.12.2025"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "purchased_on", "bad-date"));
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "Kopi", "serial_number": "ZBF1234XYZ"}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (409, "serial_number", "taken-serial_number"),
            "{label}: {}",
            answer.1
        );
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": "nope", "item_type": "laptop", "name": "x"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "tenant_id", "id-invalid"));
        let (status, _) = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "x", "colour": "red"}),
            )
            .await;
        assert_eq!(status, 400, "unknown fields are refused");
        let skjaervag = tenant_id(&server, "skjaervag").await;
        let (_, location) = tech.get(&format!("/tenants/{skjaervag}/locations")).await;
        let elsewhere = location["items"][0]["id"].clone();
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "x", "location_id": elsewhere}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (422, "location_id", "location-other-municipality")
        );

        for bad_query in [
            "type=spaceship",
            "lifecycle=lost",
            "limit=501",
            "limit=0",
            "offset=-1",
            "limit=ten",
            "warranty_until=soon",
            "contract_ends_by=2026-13-01",
        ] {
            let (status, _) = tech.get(&format!("/items?{bad_query}")).await;
            assert_eq!(status, 422, "{label}: {bad_query}");
        }
        assert_eq!(tech.get("/items?tenant=nope").await.0, 400);
        assert_eq!(
            tech.get("/items/01900000-0000-7000-8000-000000000000")
                .await
                .0,
            404
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn items_outside_the_scope_are_not_found_and_requesters_see_none() {
    for server in servers().await {
        let label = server.label;
        let tech = Api::new(&server, "tekniker.nord").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let id = tech
            .item(
                json!({"tenant_id": fjordvik, "item_type": "printer", "name": "Skrivar 2. etasje"}),
            )
            .await;

        // A technician of other municipalities: as if the item did not exist.
        let dk = Api::new(&server, "tekniker.dk").await;
        for path in [
            format!("/items/{id}"),
            format!("/items/{id}/relations"),
            format!("/items/{id}/impact"),
            format!("/items/{id}/tickets"),
        ] {
            assert_eq!(dk.get(&path).await.0, 404, "{label}: {path}");
        }
        assert_eq!(
            dk.put(&format!("/items/{id}"), json!({"name": "Mine now"}))
                .await
                .0,
            404
        );
        assert_eq!(
            dk.post(
                &format!("/items/{id}/lifecycle"),
                json!({"lifecycle": "retired"})
            )
            .await
            .0,
            404
        );
        assert_eq!(
            dk.delete(&format!("/items/{id}/relations/runs_on/{id}"))
                .await
                .0,
            404
        );
        let (status, list) = dk.get("/items").await;
        assert_eq!(status, 200);
        assert!(!ids(&list).contains(&id.as_str()));
        let (status, list) = dk.get(&format!("/items?tenant={fjordvik}")).await;
        assert_eq!((status, ids(&list).len()), (200, 0));
        // Creating in a municipality outside the scope is refused like any other denial.
        let answer = dk
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "printer", "name": "x"}),
            )
            .await;
        assert_eq!(answer.0, 403, "{label}: {}", answer.1);

        // A coordinator reads the inventory of their municipality but does not change it.
        let coordinator = Api::new(&server, "koordinator.fjordvik").await;
        assert_eq!(coordinator.get(&format!("/items/{id}")).await.0, 200);
        assert_eq!(
            coordinator
                .put(&format!("/items/{id}"), json!({"name": "Skrivar"}))
                .await
                .0,
            403
        );

        // A requester does not browse the inventory: empty lists, and items are not found.
        let teacher = Api::new(&server, "laerer.fjordvik").await;
        let (status, list) = teacher.get("/items").await;
        assert_eq!((status, ids(&list).len()), (200, 0), "{label}");
        assert_eq!(teacher.get(&format!("/items/{id}")).await.0, 404);
        assert_eq!(teacher.get(&format!("/items/{id}/impact")).await.0, 404);
        let (status, suppliers) = teacher.get("/suppliers").await;
        assert_eq!((status, ids(&suppliers).len()), (200, 0));
        let (status, contracts) = teacher.get("/contracts").await;
        assert_eq!((status, ids(&contracts).len()), (200, 0));
        assert_eq!(
            teacher
                .get(&format!("/item-fields?tenant={fjordvik}&type=laptop"))
                .await
                .0,
            403
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn relations_refuse_cycles_and_impact_follows_them() {
    for server in servers().await {
        let label = server.label;
        let tech = Api::new(&server, "tekniker.nord").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let skjaervag = tenant_id(&server, "skjaervag").await;
        let new = |tenant: &str, item_type: &str, name: &str| json!({"tenant_id": tenant, "item_type": item_type, "name": name});
        let cluster = tech
            .item(new(&fjordvik, "hypervisor_cluster", "Klynge A"))
            .await;
        let vm = tech
            .item(new(&fjordvik, "virtual_machine", "Fagsystem-VM"))
            .await;
        let app = tech.item(new(&fjordvik, "application", "Gerica")).await;
        let service = tech
            .item(new(&fjordvik, "service", "Journal for hjemmetjenesten"))
            .await;
        // The neighbour municipality runs a VM on Fjordvik's cluster (same provider).
        let guest = tech
            .item(new(&skjaervag, "virtual_machine", "Skjærvåg-VM"))
            .await;
        // ... and Fjordvik's reporting runs on that VM in turn.
        let reporting = tech
            .item(new(&fjordvik, "application", "Rapportering"))
            .await;
        for (from, relation, to) in [
            (&vm, "runs_on", &cluster),
            (&app, "runs_on", &vm),
            (&service, "depends_on", &app),
            (&guest, "runs_on", &cluster),
            (&reporting, "runs_on", &guest),
        ] {
            let (status, body) = tech
                .post(
                    &format!("/items/{from}/relations"),
                    json!({"relation": relation, "to": to}),
                )
                .await;
            assert_eq!(status, 200, "{label}: {body}");
        }
        // Recording a relation again changes nothing.
        let (status, rels) = tech
            .post(
                &format!("/items/{app}/relations"),
                json!({"relation": "runs_on", "to": vm}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            rels["items"].as_array().unwrap().len(),
            2,
            "{label}: {rels}"
        );

        let answer = tech
            .post(
                &format!("/items/{cluster}/relations"),
                json!({"relation": "depends_on", "to": service}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (422, "relation", "relation-cycle"),
            "{label}: {}",
            answer.1
        );
        let answer = tech
            .post(
                &format!("/items/{cluster}/relations"),
                json!({"relation": "sideways", "to": vm}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "relation", "relation-unknown"));
        let answer = tech
            .post(
                &format!("/items/{vm}/relations"),
                json!({"relation": "backs_up", "to": vm}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "to", "relation-self"));
        let answer = tech
            .post(
                &format!("/items/{vm}/relations"),
                json!({"relation": "backs_up", "to": "01900000-0000-7000-8000-000000000000"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "to", "relation-target-unknown"));

        let (status, rels) = tech.get(&format!("/items/{vm}/relations")).await;
        assert_eq!(status, 200);
        let mut seen: Vec<(String, bool, String)> = rels["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["relation"].as_str().unwrap().to_string(),
                    r["outgoing"].as_bool().unwrap(),
                    r["other"]["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        seen.sort();
        let mut expected = vec![
            ("runs_on".to_string(), false, app.clone()),
            ("runs_on".to_string(), true, cluster.clone()),
        ];
        expected.sort();
        assert_eq!(seen, expected, "{label}");

        // What fails with the cluster: the VMs, the application and the service on top.
        let (status, impact) = tech.get(&format!("/items/{cluster}/impact")).await;
        assert_eq!(status, 200, "{label}: {impact}");
        assert_eq!(impact["direction"], "dependants");
        assert_eq!(impact["origin"]["id"], cluster.as_str());
        let affected: Vec<(&str, &str)> = impact["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["item"]["name"].as_str().unwrap(),
                    n["effect"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(affected.len(), 5, "{label}: {affected:?}");
        for name in [
            "Rapportering",
            "Fagsystem-VM",
            "Skjærvåg-VM",
            "Gerica",
            "Journal for hjemmetjenesten",
        ] {
            assert!(affected.contains(&(name, "down")), "{label}: {name}");
        }
        assert_eq!(impact["hidden"], 0);
        assert_eq!(impact["services"], json!(["Journal for hjemmetjenesten"]));
        assert_eq!(impact["nodes"][0]["depth"], 1);
        assert_eq!((&impact["total"], &impact["down"]), (&json!(5), &json!(5)));
        assert!(impact["next_offset"].is_null(), "{label}");
        // A page at a time, nearest first then by name; the counts cover every page.
        let mut pages = Vec::new();
        let mut offset = Some(0);
        while let Some(at) = offset {
            let (status, page) = tech
                .get(&format!("/items/{cluster}/impact?limit=2&offset={at}"))
                .await;
            assert_eq!(status, 200, "{label}: {page}");
            assert_eq!(page["total"], 5);
            assert_eq!(page["services"], impact["services"]);
            pages.extend(page["nodes"].as_array().unwrap().clone());
            offset = page["next_offset"].as_u64();
        }
        assert_eq!(json!(pages), impact["nodes"], "{label}");
        let answer = tech
            .get(&format!("/items/{cluster}/impact?limit=501"))
            .await;
        assert_eq!(problem(&answer), (422, "limit", "out-of-range"));

        // Someone who sees only Fjordvik learns that one more item is affected, not which,
        // not even by id in the path to what lies behind it.
        let coordinator = Api::new(&server, "koordinator.fjordvik").await;
        let (status, partial) = coordinator.get(&format!("/items/{cluster}/impact")).await;
        assert_eq!(status, 200);
        assert_eq!(partial["nodes"].as_array().unwrap().len(), 4, "{label}");
        assert_eq!(partial["hidden"], 1);
        assert!(!partial.to_string().contains("Skjærvåg-VM"));
        assert!(!partial.to_string().contains(&guest), "{label}: {partial}");
        let behind = partial["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["item"]["id"] == reporting.as_str())
            .unwrap();
        assert_eq!(
            behind["path"],
            json!([reporting, null, cluster]),
            "{label}: the path follows the relations; an item you cannot see is a gap in it"
        );
        assert_eq!(behind["depth"], 2);

        let (status, needs) = tech
            .get(&format!("/items/{service}/impact?direction=needs"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(needs["direction"], "needs");
        let needed: Vec<&str> = needs["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["item"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(needed, vec![app.as_str(), vm.as_str(), cluster.as_str()]);
        assert!(needs["nodes"][0]["effect"].is_null());
        let answer = tech
            .get(&format!("/items/{service}/impact?direction=sideways"))
            .await;
        assert_eq!(problem(&answer), (422, "direction", "direction-unknown"));

        // Removing a relation cuts the impact there.
        let (status, rest) = tech
            .delete(&format!("/items/{app}/relations/runs_on/{vm}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            rest["items"].as_array().unwrap().len(),
            1,
            "{label}: {rest}"
        );
        assert_eq!(
            tech.delete(&format!("/items/{app}/relations/runs_on/{vm}"))
                .await
                .0,
            404
        );
        let (_, impact) = tech.get(&format!("/items/{cluster}/impact")).await;
        assert_eq!(impact["nodes"].as_array().unwrap().len(), 3, "{label}");
        // A coordinator may read relations but not change them.
        assert_eq!(
            coordinator
                .post(
                    &format!("/items/{app}/relations"),
                    json!({"relation": "runs_on", "to": vm}),
                )
                .await
                .0,
            403
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_life_cycle_ends_in_a_certified_disposal() {
    for server in servers().await {
        let label = server.label;
        let tech = Api::new(&server, "tekniker.nord").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let id = tech
            .item(json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "Elev-PC 3"}))
            .await;
        let other = tech
            .item(json!({"tenant_id": fjordvik, "item_type": "workstation", "name": "Resepsjon"}))
            .await;
        let path = format!("/items/{id}/lifecycle");
        let answer = tech
            .post(
                &path,
                json!({"lifecycle": "disposed", "recycler": "Norsirk", "certificate": "N-1"}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (422, "lifecycle", "lifecycle-transition"),
            "{label}: only a retired item is disposed"
        );
        let answer = tech
            .post(
                &path,
                json!({"lifecycle": "in_repair", "recycler": "Norsirk"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "disposal", "disposal-unexpected"));
        assert_eq!(
            problem(&tech.post(&path, json!({"lifecycle": "scrapped"})).await),
            (422, "lifecycle", "lifecycle-unknown")
        );
        let (status, retired) = tech.post(&path, json!({"lifecycle": "retired"})).await;
        assert_eq!(status, 200, "{label}: {retired}");
        assert_eq!(retired["lifecycle"], "retired");
        let (status, _) = tech
            .post(
                &format!("/items/{other}/relations"),
                json!({"relation": "backs_up", "to": id}),
            )
            .await;
        assert_eq!(status, 200);

        let answer = tech.post(&path, json!({"lifecycle": "disposed"})).await;
        assert_eq!(problem(&answer), (422, "disposal", "disposal-missing"));
        let answer = tech
            .post(
                &path,
                json!({"lifecycle": "disposed", "recycler": "Norsirk"}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (422, "certificate", "required"),
            "{label}: {}",
            answer.1
        );
        let answer = tech
            .post(
                &path,
                json!({"lifecycle": "disposed", "recycler": "Norsirk", "certificate": "  "}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "certificate", "required"));
        let coordinator = Api::new(&server, "koordinator.fjordvik").await;
        assert_eq!(
            coordinator
                .post(&path, json!({"lifecycle": "disposed", "recycler": "Norsirk", "certificate": "N-2026-118"}))
                .await
                .0,
            403
        );

        let (status, disposed) = tech
            .post(
                &path,
                json!({"lifecycle": "disposed", "recycler": "Norsirk", "certificate": "N-2026-118"}),
            )
            .await;
        assert_eq!(status, 200, "{label}: {disposed}");
        assert_eq!(disposed["lifecycle"], "disposed");
        assert_eq!(
            disposed["disposal"],
            json!({"recycler": "Norsirk", "certificate": "N-2026-118"})
        );
        let (_, rels) = tech.get(&format!("/items/{other}/relations")).await;
        assert_eq!(
            rels["items"],
            json!([]),
            "{label}: disposal removes relations"
        );
        let answer = tech.post(&path, json!({"lifecycle": "in_stock"})).await;
        assert_eq!(problem(&answer), (422, "lifecycle", "lifecycle-transition"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn suppliers_and_contracts_round_trip() {
    for server in servers().await {
        let label = server.label;
        let tech = Api::new(&server, "tekniker.nord").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (status, supplier) = tech
            .post(
                "/suppliers",
                json!({"tenant_id": fjordvik, "name": "Zebrafisk Data AS", "org_number": "980 389 985", "contact": "kundesenter@zebrafisk.example"}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {supplier}");
        let supplier_id = supplier["id"].as_str().unwrap().to_string();
        assert_eq!(supplier["tenant_name"], "Fjordvik kommune");
        let answer = tech
            .post(
                "/suppliers",
                json!({"tenant_id": fjordvik, "name": "Zebrafisk Data AS"}),
            )
            .await;
        assert_eq!(problem(&answer), (409, "name", "taken-name"), "{label}");
        let answer = tech
            .post("/suppliers", json!({"tenant_id": fjordvik, "name": " "}))
            .await;
        assert_eq!(problem(&answer).0, 422);
        let (status, list) = tech.get("/suppliers").await;
        assert_eq!(status, 200);
        assert!(ids(&list).contains(&supplier_id.as_str()));

        let (status, contract) = tech
            .post(
                "/contracts",
                json!({
                    "tenant_id": fjordvik, "supplier_id": supplier_id, "name": "PC-avtale 2025",
                    "starts_on": "2025-01-01", "ends_on": "2027-12-31", "notice_months": 6,
                    "annual_cost": 120000
                }),
            )
            .await;
        assert_eq!(status, 201, "{label}: {contract}");
        let contract_id = contract["id"].as_str().unwrap().to_string();
        assert_eq!(contract["currency"], "NOK");
        assert_eq!(contract["supplier_name"], "Zebrafisk Data AS");
        assert_eq!(contract["item_count"], 0);
        let answer = tech
            .post(
                "/contracts",
                json!({"tenant_id": fjordvik, "supplier_id": supplier_id, "name": "Baklengs", "starts_on": "2026-01-01", "ends_on": "2025-01-01"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "ends_on", "ends-before-start"));
        let answer = tech
            .post(
                "/contracts",
                json!({"tenant_id": fjordvik, "supplier_id": "nobody", "name": "Ingen"}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (422, "supplier_id", "supplier-unknown"),
            "{label}: {}",
            answer.1
        );
        let answer = tech
            .post(
                "/contracts",
                json!({"tenant_id": fjordvik, "supplier_id": supplier_id, "name": "Euro", "currency": "euro"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "currency", "bad-currency"));

        let item = tech
            .item(json!({
                "tenant_id": fjordvik, "item_type": "laptop", "name": "Rektor-PC",
                "supplier_id": supplier_id, "contract_id": contract_id
            }))
            .await;
        let (_, got) = tech.get(&format!("/items/{item}")).await;
        assert_eq!(got["supplier_name"], "Zebrafisk Data AS");
        assert_eq!(got["contract_name"], "PC-avtale 2025");
        let (_, by_supplier) = tech.get(&format!("/items?supplier={supplier_id}")).await;
        assert_eq!(ids(&by_supplier), vec![item.as_str()]);
        let (_, ending) = tech
            .get(&format!(
                "/items?supplier={supplier_id}&contract_ends_by=2028-01-01"
            ))
            .await;
        assert_eq!(ids(&ending), vec![item.as_str()]);
        let (_, ending) = tech
            .get(&format!(
                "/items?supplier={supplier_id}&contract_ends_by=2026-01-01"
            ))
            .await;
        assert!(ids(&ending).is_empty());
        let (_, contracts) = tech.get("/contracts").await;
        let listed = contracts["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == contract_id.as_str())
            .unwrap();
        assert_eq!(listed["item_count"], 1, "{label}");
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "x", "contract_id": "none"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "contract_id", "contract-unknown"));

        // Another municipality's supplier and contract are not in reach.
        let dk = Api::new(&server, "tekniker.dk").await;
        let (_, theirs) = dk.get("/suppliers").await;
        assert!(!ids(&theirs).contains(&supplier_id.as_str()), "{label}");
        let (_, theirs) = dk.get("/contracts").await;
        assert!(!ids(&theirs).contains(&contract_id.as_str()));
        let egeholm = tenant_id(&server, "egeholm").await;
        let answer = dk
            .post(
                "/items",
                json!({"tenant_id": egeholm, "item_type": "laptop", "name": "x", "supplier_id": supplier_id}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "supplier_id", "supplier-unknown"));
        assert_eq!(
            dk.post(
                "/suppliers",
                json!({"tenant_id": fjordvik, "name": "Lokal"})
            )
            .await
            .0,
            403
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tickets_link_to_the_items_they_are_about() {
    for server in servers().await {
        let label = server.label;
        let tech = Api::new(&server, "tekniker.nord").await;
        let teacher = Api::new(&server, "laerer.fjordvik").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let item = tech
            .item(json!({"tenant_id": fjordvik, "item_type": "printer", "name": "Personalrommet"}))
            .await;
        let (status, ticket) = teacher
            .post(
                "/tickets",
                json!({"tenant_id": fjordvik, "title": "Skriveren på personalrommet skriver blankt"}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {ticket}");
        let n = ticket["number"].as_i64().unwrap();

        let (status, items) = tech
            .post(&format!("/tickets/{n}/items"), json!({"item_id": item}))
            .await;
        assert_eq!(status, 200, "{label}: {items}");
        assert_eq!(ids(&items), vec![item.as_str()]);
        let (status, again) = tech
            .post(&format!("/tickets/{n}/items"), json!({"item_id": item}))
            .await;
        assert_eq!((status, ids(&again)), (200, vec![item.as_str()]));
        let (status, items) = tech.get(&format!("/tickets/{n}/items")).await;
        assert_eq!((status, ids(&items)), (200, vec![item.as_str()]));
        let (status, tickets) = tech.get(&format!("/items/{item}/tickets")).await;
        assert_eq!(status, 200);
        let numbers: Vec<i64> = tickets["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_i64().unwrap())
            .collect();
        assert_eq!(numbers, vec![n], "{label}");

        let answer = tech
            .post(
                &format!("/tickets/{n}/items"),
                json!({"item_id": "nothing"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "item_id", "item-unknown"));
        assert_eq!(
            tech.post("/tickets/abc/items", json!({"item_id": item}))
                .await
                .0,
            400
        );

        // The requester sees their ticket, not the inventory behind it.
        let (status, theirs) = teacher.get(&format!("/tickets/{n}/items")).await;
        assert_eq!((status, ids(&theirs).len()), (200, 0), "{label}");
        assert_eq!(teacher.get(&format!("/items/{item}/tickets")).await.0, 404);
        assert_eq!(
            teacher
                .post(&format!("/tickets/{n}/items"), json!({"item_id": item}))
                .await
                .0,
            403
        );
        // Another municipality's technician sees neither.
        let dk = Api::new(&server, "tekniker.dk").await;
        assert_eq!(dk.get(&format!("/tickets/{n}/items")).await.0, 404);
        assert_eq!(
            dk.post(&format!("/tickets/{n}/items"), json!({"item_id": item}))
                .await
                .0,
            404
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn item_fields_are_built_in_and_added_by_providers() {
    for server in servers().await {
        let label = server.label;
        let admin = Api::new(&server, "admin").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let nordkyst = tenant_id(&server, "nordkyst").await;
        let (status, fields) = admin
            .get(&format!("/item-fields?tenant={fjordvik}&type=network_link"))
            .await;
        assert_eq!(status, 200, "{label}: {fields}");
        let medium = fields["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == "medium")
            .unwrap();
        assert_eq!(medium["kind"], "choice");
        assert_eq!(medium["built_in"], true);
        assert!(medium["label"].is_null());
        assert!(
            medium["choices"]
                .as_array()
                .unwrap()
                .contains(&json!("fibre"))
        );
        let (status, all) = admin.get(&format!("/item-fields?tenant={fjordvik}")).await;
        assert_eq!(status, 200);
        assert!(all["items"].as_array().unwrap().len() > fields["items"].as_array().unwrap().len());

        let (status, field) = admin
            .post(
                "/item-fields",
                json!({"provider_id": nordkyst, "item_type": "laptop", "key": "zebra_year", "label": "Klassetrinn", "kind": "integer"}),
            )
            .await;
        assert_eq!(status, 201, "{label}: {field}");
        assert_eq!(field["key"], "zebra_year");
        let (_, laptop) = admin
            .get(&format!("/item-fields?tenant={fjordvik}&type=laptop"))
            .await;
        let added = laptop["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == "zebra_year")
            .unwrap();
        assert_eq!(
            (&added["label"], &added["built_in"], &added["kind"]),
            (&json!("Klassetrinn"), &json!(false), &json!("integer"))
        );
        // Every municipality of the provider takes the new field at once.
        let tech = Api::new(&server, "tekniker.nord").await;
        let answer = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "Elev-PC", "attributes": {"zebra_year": "sjette"}}),
            )
            .await;
        assert_eq!(
            problem(&answer),
            (422, "attributes.zebra_year", "bad-integer")
        );
        let (status, item) = tech
            .post(
                "/items",
                json!({"tenant_id": fjordvik, "item_type": "laptop", "name": "Elev-PC", "attributes": {"zebra_year": 6}}),
            )
            .await;
        assert_eq!(status, 201);
        assert_eq!(item["attributes"]["zebra_year"], "6");

        let answer = admin
            .post(
                "/item-fields",
                json!({"provider_id": nordkyst, "item_type": "laptop", "key": "model", "label": "Modell", "kind": "text"}),
            )
            .await;
        assert_eq!(problem(&answer), (409, "key", "taken-key"), "{label}");
        let answer = admin
            .post(
                "/item-fields",
                json!({"provider_id": nordkyst, "item_type": "laptop", "key": "Bad Key", "label": "x", "kind": "text"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "key", "field-key"));
        let answer = admin
            .post(
                "/item-fields",
                json!({"provider_id": nordkyst, "item_type": "laptop", "key": "colour", "label": "Farge", "kind": "choice"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "kind", "field-kind"));
        let answer = admin
            .post(
                "/item-fields",
                json!({"provider_id": nordkyst, "item_type": "hovercraft", "key": "x", "label": "x", "kind": "text"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "item_type", "item-type-unknown"));
        let answer = admin
            .post(
                "/item-fields",
                json!({"provider_id": fjordvik, "item_type": "laptop", "key": "room", "label": "Rom", "kind": "text"}),
            )
            .await;
        assert_eq!(problem(&answer), (422, "provider_id", "not-a-provider"));
        let provider_tech = Api::new(&server, "tekniker").await;
        let answer = provider_tech
            .post(
                "/item-fields",
                json!({"provider_id": nordkyst, "item_type": "laptop", "key": "room", "label": "Rom", "kind": "text"}),
            )
            .await;
        assert_eq!(answer.0, 403, "{label}: only provider administrators");

        assert_eq!(
            problem(&admin.get("/item-fields").await),
            (422, "tenant", "required")
        );
        assert_eq!(
            problem(
                &admin
                    .get(&format!("/item-fields?tenant={fjordvik}&type=boat"))
                    .await
            ),
            (422, "type", "item-type-unknown")
        );
        let dk = Api::new(&server, "tekniker.dk").await;
        assert_eq!(
            dk.get(&format!("/item-fields?tenant={fjordvik}&type=laptop"))
                .await
                .0,
            403,
            "{label}: outside the scope, as for any denial"
        );
    }
}
