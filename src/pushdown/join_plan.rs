//! Which join the diff runs: walking the model and the snapshot side by
//! side in key order, or hashing one of them.
//!
//! PostgreSQL's planner costs an index scan of a whole table as if every
//! page were a random read, so for a model that is one table read through
//! its primary key it hashes the snapshot instead: on a 10M-row table that
//! hash join takes 14 s where walking both primary keys in order takes 9 s
//! (docs/sources.md). Disabling hash joins for the diff's transaction would
//! also reach into the user's own joins, so the diff is first planned
//! without them and that plan kept only when it is exactly the walk: one
//! full merge join whose inputs are index scans, no sort, no other join.

use serde_json::Value as Json;

/// Nodes a walk in key order may have besides its one merge join.
const WALK: [&str; 6] = [
    "Index Scan",
    "Index Only Scan",
    "Subquery Scan",
    "Result",
    "Gather Merge",
    "Materialize",
];

/// Whether the output of `EXPLAIN (FORMAT JSON)` of the diff is a walk of
/// both sides in key order.
pub fn walks_in_key_order(explain: &str) -> bool {
    let Ok(plans) = serde_json::from_str::<Json>(explain) else {
        return false;
    };
    let Some(top) = plans.get(0).and_then(|p| p.get("Plan")) else {
        return false;
    };
    let mut merges = 0;
    let mut other = false;
    visit(top, &mut |node| match node["Node Type"].as_str() {
        Some("Merge Join") if node["Join Type"] == "Full" => merges += 1,
        Some(t) if WALK.contains(&t) => {}
        _ => other = true,
    });
    merges == 1 && !other
}

fn visit(node: &Json, f: &mut dyn FnMut(&Json)) {
    f(node);
    for child in node["Plans"].as_array().into_iter().flatten() {
        visit(child, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(ty: &str, children: Vec<Json>) -> Json {
        serde_json::json!({ "Node Type": ty, "Plans": children })
    }

    fn explain(top: Json) -> String {
        serde_json::json!([{ "Plan": top }]).to_string()
    }

    fn merge(children: Vec<Json>) -> Json {
        let mut m = node("Merge Join", children);
        m["Join Type"] = "Full".into();
        m
    }

    #[test]
    fn a_merge_join_of_two_index_scans_is_a_walk() {
        let scan = node("Index Scan", vec![]);
        assert!(walks_in_key_order(&explain(merge(vec![
            node("Subquery Scan", vec![scan.clone()]),
            scan.clone()
        ]))));
        // The removed rows' records are fetched by a subplan on the base's key.
        let mut sub = node("Index Scan", vec![]);
        sub["Parent Relationship"] = "SubPlan".into();
        assert!(walks_in_key_order(&explain(merge(vec![
            scan.clone(),
            node("Index Only Scan", vec![]),
            sub
        ]))));
    }

    #[test]
    fn a_sort_another_join_or_a_hash_join_is_not() {
        let scan = node("Index Scan", vec![]);
        let sorted = merge(vec![
            node("Sort", vec![node("Seq Scan", vec![])]),
            scan.clone(),
        ]);
        assert!(!walks_in_key_order(&explain(sorted)));
        let joined = merge(vec![
            node("Nested Loop", vec![scan.clone(), scan.clone()]),
            scan.clone(),
        ]);
        assert!(!walks_in_key_order(&explain(joined)));
        let mut hash = node(
            "Hash Join",
            vec![scan.clone(), node("Hash", vec![scan.clone()])],
        );
        hash["Join Type"] = "Full".into();
        assert!(!walks_in_key_order(&explain(hash)));
        let mut left = merge(vec![scan.clone(), scan.clone()]);
        left["Join Type"] = "Left".into();
        assert!(!walks_in_key_order(&explain(left)));
        assert!(!walks_in_key_order("not json"));
    }
}
