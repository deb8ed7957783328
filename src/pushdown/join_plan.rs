//! Which join the diff runs: walking the model and the snapshot side by
//! side in key order, or hashing one of them.
//!
//! PostgreSQL's planner costs an index scan of a whole table as mostly
//! cached, so for a model that is one table read through its primary key
//! it hashes the snapshot instead: on a 10M-row table stored in key order
//! that hash join takes 14 s where walking both primary keys takes 9 s
//! (docs/sources.md). Disabling hash joins for the diff's transaction would
//! also reach into the user's own joins, so the diff is first planned
//! without them and that plan kept only when it is exactly the walk: one
//! full merge join whose inputs are index scans, no sort, no other join;
//! and only when each table walked is stored in (near) key order: walking
//! an index in another order than the rows' (random uuids) reads a page
//! per row, 4.5 times slower than the hash join on 2M rows.

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

/// How closely a walked table's rows must follow its index (PostgreSQL's
/// `pg_stats.correlation` of the index's first column, 1 = in order).
pub const IN_ORDER: f32 = 0.9;

/// An index the walk reads, `"schema"."name"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index(pub String);

/// The indexes the walk reads in key order, if the output of
/// `EXPLAIN (FORMAT JSON, VERBOSE)` of the diff is such a walk (the
/// lookups of removed rows' records, subplans by key, are not walks).
pub fn walked_indexes(explain: &str) -> Option<Vec<Index>> {
    let plans = serde_json::from_str::<Json>(explain).ok()?;
    let top = plans.get(0)?.get("Plan")?;
    let mut merges = 0;
    let mut other = false;
    let mut walked = Vec::new();
    visit(top, false, &mut |node, in_subplan| {
        match node["Node Type"].as_str() {
            Some("Merge Join") if node["Join Type"] == "Full" => merges += 1,
            Some(t) if WALK.contains(&t) => {}
            _ => other = true,
        }
        if let (Some(index), Some(schema), false) = (
            node["Index Name"].as_str(),
            node["Schema"].as_str(),
            in_subplan,
        ) {
            walked.push(Index(format!(
                "{}.{}",
                super::sql::quote(schema),
                super::sql::quote(index)
            )));
        }
    });
    (merges == 1 && !other && !walked.is_empty()).then_some(walked)
}

fn visit(node: &Json, in_subplan: bool, f: &mut dyn FnMut(&Json, bool)) {
    let in_subplan = in_subplan
        || matches!(
            node["Parent Relationship"].as_str(),
            Some("SubPlan" | "InitPlan")
        );
    f(node, in_subplan);
    for child in node["Plans"].as_array().into_iter().flatten() {
        visit(child, in_subplan, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(ty: &str, children: Vec<Json>) -> Json {
        let mut n = serde_json::json!({ "Node Type": ty, "Plans": children });
        if ty.starts_with("Index") {
            n["Schema"] = "public".into();
            n["Index Name"] = "t_pkey".into();
        }
        n
    }

    fn walks_in_key_order(explain: &str) -> bool {
        walked_indexes(explain).is_some()
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
        sub["Index Name"] = "base_pkey".into();
        let walked = walked_indexes(&explain(merge(vec![
            scan.clone(),
            node("Index Only Scan", vec![]),
            sub,
        ])));
        assert_eq!(
            walked,
            Some(vec![Index("\"public\".\"t_pkey\"".into()); 2]),
            "the subplan's lookups are not walked"
        );
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
