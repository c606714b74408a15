//! Checking that a set of sweep directories is one sweep, split into shards that are each present exactly once.
//! Pure: the caller reads the directories and passes their definitions.

use crate::sweep::SweepError;
use crate::sweep::plan::{Definition, Shard};

/// A finished sweep directory as `merge` sees it.
pub struct ShardDir<'a> {
    /// How to name it in messages (its path).
    pub label: &'a str,
    pub definition: &'a Definition,
    pub shard: Shard,
}

/// Checks that `dirs` are the N shards of one sweep, each once; returns, for each shard index 0..N, the position
/// in `dirs` of the directory that holds it.
pub fn check_complete(dirs: &[ShardDir]) -> Result<Vec<usize>, SweepError> {
    let Some(first) = dirs.first() else {
        return Err(SweepError::NoShards);
    };
    let count = first.shard.count;
    let mut owner: Vec<Option<usize>> = vec![None; count as usize];
    for (i, d) in dirs.iter().enumerate() {
        let fields = first.definition.differences(d.definition);
        if !fields.is_empty() {
            return Err(SweepError::DefinitionMismatch {
                dir: d.label.to_string(),
                first: first.label.to_string(),
                fields: fields.join(", "),
            });
        }
        if d.shard.count != count {
            return Err(SweepError::ShardCountMismatch {
                dir: d.label.to_string(),
                shard: d.shard,
                first: first.label.to_string(),
                first_shard: first.shard,
            });
        }
        let slot = &mut owner[d.shard.index as usize];
        if let Some(prev) = *slot {
            return Err(SweepError::DuplicateShard {
                shard: d.shard,
                first: dirs[prev].label.to_string(),
                second: d.label.to_string(),
            });
        }
        *slot = Some(i);
    }
    let missing: Vec<Shard> = (0..count)
        .filter(|&i| owner[i as usize].is_none())
        .map(|index| Shard { index, count })
        .collect();
    if !missing.is_empty() {
        return Err(SweepError::MissingShards {
            shards: missing
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            plural: if missing.len() > 1 { "s" } else { "" },
        });
    }
    Ok(owner.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::plan::ScenarioId;

    fn def(seed: u64) -> Definition {
        Definition {
            settlesim_version: "t".into(),
            scenarios: vec![ScenarioId {
                name: "a".into(),
                sha256: "aa".into(),
            }],
            set: vec![],
            grid: vec![],
            replications: 3,
            seed,
            payments: false,
            independent: true,
        }
    }

    fn check(shards: &[(&str, u64, &str)]) -> Result<Vec<usize>, String> {
        let defs: Vec<Definition> = shards.iter().map(|s| def(s.1)).collect();
        let dirs: Vec<ShardDir> = shards
            .iter()
            .zip(&defs)
            .map(|(s, d)| ShardDir {
                label: s.0,
                definition: d,
                shard: s.2.parse().unwrap(),
            })
            .collect();
        check_complete(&dirs).map_err(|e| e.to_string())
    }

    #[test]
    fn complete_sets_in_any_order() {
        assert_eq!(check(&[("b", 1, "1/2"), ("a", 1, "0/2")]), Ok(vec![1, 0]));
        assert_eq!(check(&[("u", 1, "0/1")]), Ok(vec![0]));
    }

    #[test]
    fn missing_duplicate_and_mismatched_shards_are_named() {
        assert_eq!(
            check(&[("a", 1, "0/4"), ("c", 1, "2/4")]),
            Err("shards 1/4, 3/4 are missing".into())
        );
        assert_eq!(
            check(&[("a", 1, "0/2")]),
            Err("shard 1/2 is missing".into())
        );
        assert_eq!(
            check(&[("a", 1, "0/2"), ("b", 1, "1/2"), ("c", 1, "1/2")]),
            Err("shard 1/2 is given twice: b and c".into())
        );
        assert_eq!(
            check(&[("a", 1, "0/2"), ("b", 2, "1/2")]),
            Err("b: its sweep definition differs from a's (--seed)".into())
        );
        assert_eq!(
            check(&[("a", 1, "0/2"), ("b", 1, "1/3")]),
            Err("b: shard 1/3 does not belong with a (shard 0/2): different shard counts".into())
        );
    }
}
