//! Arguments shared by several commands, and how the engine's and the store's own types
//! are spelled on the command line. The library's types know nothing of clap; the
//! command line's view of them lives here.

use clap::Args;
use clap::builder::PossibleValue;

use crate::engine::{Quad, Region, Side};
use crate::review::Status;

/// Which side the photos show and what part of them is judged.
#[derive(Debug, Clone, Copy, Args)]
pub struct Framing {
    /// Which side of the document the photos show.
    #[arg(long, default_value = "front", value_parser = side_words())]
    pub side: Side,
    /// Judge the detected document, or the whole frame (skips the DOCUMENT_* rules).
    #[arg(long, default_value = "document", value_parser = region_words())]
    pub region: Region,
}

/// A document outline on the command line: `x1,y1,x2,y2,x3,y3,x4,y4` in photo pixels
/// (the photo as its EXIF orientation shows it), corners in order round the document.
pub fn parse_quad(text: &str) -> Result<Quad, String> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{text:?} is not eight numbers separated by commas"))?;
    let [x1, y1, x2, y2, x3, y3, x4, y4] = numbers[..] else {
        return Err(format!(
            "an outline is four corners, eight numbers x1,y1,...,x4,y4; got {}",
            numbers.len()
        ));
    };
    Quad::from_corners([(x1, y1), (x2, y2), (x3, y3), (x4, y4)]).map_err(|e| e.to_string())
}

/// A parser for an enum of the engine or the store: its words, each with its help. (Each
/// is a crate of its own, so their enums cannot take clap's `ValueEnum`.)
macro_rules! words {
    ($vis:vis $name:ident -> $t:ty { $($v:ident => $word:literal: $help:literal),+ $(,)? }) => {
        // Every variant needs its word: a variant added later stops the build here
        // instead of going missing from the command line.
        const _: fn($t) -> &'static str = |v| match v {
            $(<$t>::$v => $word),+
        };
        $vis fn $name() -> impl clap::builder::TypedValueParser<Value = $t> {
            use clap::builder::TypedValueParser;
            clap::builder::PossibleValuesParser::new([$(PossibleValue::new($word).help($help)),+])
                .try_map(|word: String| match word.as_str() {
                    $($word => Ok(<$t>::$v),)+
                    other => Err(format!("{other:?} is not one of the listed words")),
                })
        }
    };
}

words!(side_words -> Side {
    Front => "front": "The side with the holder's portrait",
    Back => "back": "The other side",
});
words!(region_words -> Region {
    Document => "document": "Find the document and judge it (the product's normal mode)",
    Whole => "whole": "Skip document detection and its rules; judge the whole frame (spot checks of crops)",
});
words!(pub(crate) status_words -> Status {
    Open => "open": "No decision in force",
    Decided => "decided": "A decision in force",
    All => "all": "Both",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_are_read_and_checked() {
        let q = parse_quad("10,10, 110,10, 110,70, 10,70").unwrap();
        assert_eq!(q.area(), 6000.0);
        assert!(
            parse_quad("10,10,110,10,110,70")
                .unwrap_err()
                .contains("got 6")
        );
        assert!(parse_quad("a,b").unwrap_err().contains("not eight numbers"));
        assert!(
            parse_quad("0,0,110,70,110,0,0,70")
                .unwrap_err()
                .contains("convex")
        );
    }

    #[test]
    fn the_command_line_words_are_the_wire_words() {
        // A side or region typed on the command line is spelled as the JSON spells it.
        use clap::Parser;
        use clap::builder::TypedValueParser;
        #[derive(Parser)]
        struct Probe {
            #[command(flatten)]
            framing: Framing,
        }
        let parse = |flag: &str, word: &str| Probe::try_parse_from(["probe", flag, word]);
        for word in side_words().possible_values().unwrap() {
            let word = word.get_name();
            let side = parse("--side", word).unwrap().framing.side;
            assert_eq!(serde_json::to_value(side).unwrap(), word);
        }
        for word in region_words().possible_values().unwrap() {
            let word = word.get_name();
            let region = parse("--region", word).unwrap().framing.region;
            assert_eq!(serde_json::to_value(region).unwrap(), word);
        }
        let defaults = Probe::try_parse_from(["probe"]).unwrap().framing;
        assert_eq!(
            (defaults.side, defaults.region),
            (Side::Front, Region::Document)
        );
        let refused = parse("--side", "top").err().unwrap().to_string();
        assert!(
            refused.contains("front") && refused.contains("back"),
            "{refused}"
        );
        for word in status_words().possible_values().unwrap() {
            let word = word.get_name();
            let status: Status = status_words()
                .parse_ref(
                    &clap::Command::new("probe"),
                    None,
                    std::ffi::OsStr::new(word),
                )
                .unwrap();
            assert_eq!(serde_json::to_value(status).unwrap(), word);
        }
    }
}
