//! Decides a run of cases with one verdict, as if a reviewer had: to try `queue adapt`
//! on a labelled folder of photos (`queue import --all` files one folder's photos as
//! consecutive cases; this marks them). Every decision goes through the store and its
//! audit log, as a reviewer's does.
//!
//!   cargo run --release --example decide_cases -- DB FIRST LAST genuine|screen|print|digital [REVIEWER]

use std::path::Path;
use std::process::ExitCode;

use docliveness::review::{AttackType, NewDecision, Store, Verdict};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(n) => {
            println!("{n} cases decided");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("usage: decide_cases DB FIRST LAST genuine|screen|print|digital [REVIEWER]");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<usize, String> {
    let [db, first, last, label, rest @ ..] = args else {
        return Err("four arguments are needed".into());
    };
    let id = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| format!("{s:?} is not a case number"))
    };
    let (first, last) = (id(first)?, id(last)?);
    let attack_type = match label.as_str() {
        "genuine" => None,
        "screen" => Some(AttackType::Screen),
        "print" => Some(AttackType::Print),
        "digital" => Some(AttackType::Digital),
        other => return Err(format!("{other:?} is not a label")),
    };
    let reviewer = rest.first().map_or("labelled-folder", String::as_str);
    let mut store = Store::open_existing(Path::new(db)).map_err(|e| e.to_string())?;
    for case in first..=last {
        let decision = NewDecision {
            reviewer: reviewer.into(),
            verdict: Some(if attack_type.is_some() {
                Verdict::Attack
            } else {
                Verdict::Genuine
            }),
            attack_type,
            resubmit_reason: None,
            reason: Some("label of the photo's folder".into()),
            note: None,
        };
        store
            .decide(case, &decision, None)
            .map_err(|e| format!("case {case}: {e}"))?;
    }
    Ok((last - first + 1).max(0) as usize)
}
