//! A flow's graph for publishing: nodes and edges by index, checked for unique ids, one
//! start, an end and edges between existing nodes with the conditions and outcomes their
//! source allows (`Graph::build`); then for paths (`Graph::check_paths`): every node
//! reachable from start and able to reach an end, every join able to complete.

use super::*;

pub(super) struct Graph<'a> {
    pub nodes: Vec<&'a Map<String, Value>>,
    pub edges: Vec<&'a Map<String, Value>>,
    /// Node id → index.
    pub index: HashMap<String, usize>,
    /// Each node's outgoing edges (indexes into `edges`), and how many edges come in.
    pub outgoing: Vec<Vec<usize>>,
    pub incoming: Vec<usize>,
    pub starts: Vec<usize>,
}

pub(super) fn node_id(n: &Map<String, Value>) -> String {
    n.get("id").and_then(Value::as_str).unwrap_or("").to_owned()
}

pub(super) fn node_kind(n: &Map<String, Value>) -> String {
    n.get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

impl<'a> Graph<'a> {
    pub fn build(def: &'a Value, out: &mut Vec<Detail>) -> Graph<'a> {
        let nodes: Vec<&Map<String, Value>> = def["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        let edges: Vec<&Map<String, Value>> = def["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            if index.insert(node_id(n), i).is_some() {
                out.push(d(
                    format!("/nodes/{i}/id"),
                    "unique",
                    format!("node id {} is used twice", node_id(n)),
                ));
            }
        }
        let starts: Vec<usize> = (0..nodes.len())
            .filter(|&i| node_kind(nodes[i]) == "start")
            .collect();
        if starts.len() != 1 {
            out.push(d(
                "/nodes",
                "start",
                format!("a flow has exactly one start node, not {}", starts.len()),
            ));
        }
        if !nodes.iter().any(|n| node_kind(n) == "end") {
            out.push(d("/nodes", "end", "a flow needs an end node"));
        }
        // (Before the edges: the details keep the order they have always had.)
        super::nodes::check_guard_nodes(def, &nodes, out);
        let mut outgoing: Vec<Vec<usize>> = vec![vec![]; nodes.len()];
        let mut incoming: Vec<usize> = vec![0; nodes.len()];
        for (j, e) in edges.iter().enumerate() {
            let from = e.get("from").and_then(Value::as_str).unwrap_or("");
            let to = e.get("to").and_then(Value::as_str).unwrap_or("");
            let (Some(&a), Some(&b)) = (index.get(from), index.get(to)) else {
                for (k, v) in [("from", from), ("to", to)] {
                    if !index.contains_key(v) {
                        out.push(d(
                            format!("/edges/{j}/{k}"),
                            "exists",
                            format!("there is no node {v}"),
                        ));
                    }
                }
                continue;
            };
            outgoing[a].push(j);
            incoming[b] += 1;
            if let Some(w) = e.get("when") {
                check_logic(w, &format!("/edges/{j}/when"), out);
                if node_kind(nodes[a]) != "branch" {
                    out.push(d(
                        format!("/edges/{j}/when"),
                        "edge",
                        "only edges out of a branch have a condition",
                    ));
                }
            }
            if let Some(o) = e.get("outcome") {
                let allowed: &[&str] = match node_kind(nodes[a]).as_str() {
                    "approval" => &["approved", "rejected"],
                    "http" | "report" => &["ok", "failed"],
                    "subflow" => &["completed", "failed"],
                    _ => &[],
                };
                if !o.as_str().is_some_and(|o| allowed.contains(&o)) {
                    out.push(d(
                        format!("/edges/{j}/outcome"),
                        "enum",
                        if allowed.is_empty() {
                            "only edges out of an approval, an http or a subflow node have an outcome"
                                .to_owned()
                        } else {
                            format!("outcome is {}", allowed.join(" or "))
                        },
                    ));
                }
            }
        }

        Graph {
            nodes,
            edges,
            index,
            outgoing,
            incoming,
            starts,
        }
    }

    /// Which nodes a token at `start` can reach (itself included), along edges between
    /// existing nodes.
    pub fn reachable_from(&self, start: usize) -> Vec<bool> {
        let mut seen = vec![false; self.nodes.len()];
        let mut q = VecDeque::from([start]);
        seen[start] = true;
        while let Some(a) = q.pop_front() {
            for &j in &self.outgoing[a] {
                if let Some(&b) = self.edges[j]
                    .get("to")
                    .and_then(Value::as_str)
                    .and_then(|t| self.index.get(t))
                    && !seen[b]
                {
                    seen[b] = true;
                    q.push_back(b);
                }
            }
        }
        seen
    }

    /// Reachability from start, ends, and joins that can complete.
    pub fn check_paths(&self, out: &mut Vec<Detail>) {
        let Graph {
            nodes,
            edges,
            index,
            outgoing,
            incoming,
            starts,
        } = self;
        if let [s] = starts[..] {
            let seen = self.reachable_from(s);
            for (i, n) in nodes.iter().enumerate() {
                if !seen[i] {
                    out.push(d(
                        format!("/nodes/{i}"),
                        "reachable",
                        format!("node {} cannot be reached from start", node_id(n)),
                    ));
                }
            }
            let mut reaches_end: Vec<bool> = nodes
                .iter()
                .map(|n| node_kind(n) == "end" || node_kind(n) == "reject")
                .collect();
            loop {
                let mut changed = false;
                for a in 0..nodes.len() {
                    if reaches_end[a] {
                        continue;
                    }
                    let to_end = outgoing[a].iter().any(|&j| {
                        edges[j]
                            .get("to")
                            .and_then(Value::as_str)
                            .and_then(|t| index.get(t))
                            .is_some_and(|&b| reaches_end[b])
                    });
                    if to_end {
                        reaches_end[a] = true;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            for (i, n) in nodes.iter().enumerate() {
                if seen[i] && !reaches_end[i] {
                    out.push(d(
                        format!("/nodes/{i}"),
                        "exit",
                        format!(
                            "node {} can never reach an end (a loop without an exit?)",
                            node_id(n)
                        ),
                    ));
                }
            }
            // A join waiting for more arrivals than its instance can ever send it.
            let targets: Vec<Vec<usize>> = (0..nodes.len())
                .map(|a| {
                    outgoing[a]
                        .iter()
                        .filter_map(|&j| edges[j].get("to").and_then(Value::as_str))
                        .filter_map(|t| index.get(t).copied())
                        .collect()
                })
                .collect();
            for (jn, n) in nodes.iter().enumerate() {
                if node_kind(n) != "join" || !seen[jn] {
                    continue;
                }
                let needed = match n.get("mode") {
                    None => incoming[jn],
                    Some(Value::String(m)) if m == "all" => incoming[jn],
                    Some(Value::Object(m)) if m.get("n").is_some() => {
                        m["n"].as_u64().unwrap_or(0) as usize
                    }
                    _ => continue, // any; activated_by (waits for what was activated)
                };
                let most = arrivals(
                    s,
                    jn,
                    nodes,
                    &targets,
                    &mut vec![None; nodes.len()],
                    &mut vec![false; nodes.len()],
                );
                if most < needed {
                    out.push(d(
                        format!("/nodes/{jn}/mode"),
                        "join",
                        format!(
                            "join {} waits for {needed} arrivals, but at most {most} can reach it in one run (paths that leave an exclusive branch, a decision or a sub-flow's outcome never all arrive): join with \"any\" or {{\"n\": {most}}}, or split with a parallel or multi-choice node",
                            node_id(n)
                        ),
                    ));
                }
            }
        }
    }
}
