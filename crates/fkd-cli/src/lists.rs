//! Parsing of the dp tutorial's list-valued flags: `{96,96}`, `96,96` or a single `3000`.

use std::fmt::Display;
use std::str::FromStr;

/// The forms a list flag accepts, shown in every parse error.
pub const ACCEPTED_FORMS: &str =
    "expected a list such as '{96,96}', '96,96' or a single value such as '3000'";

/// Parses a list of values in one of the accepted forms.
pub fn parse_list<T>(text: &str) -> Result<Vec<T>, String>
where
    T: FromStr,
    T::Err: Display,
{
    let trimmed = text.trim();
    let inner = match (trimmed.strip_prefix('{'), trimmed.strip_suffix('}')) {
        (Some(_), Some(_)) => &trimmed[1..trimmed.len() - 1],
        (None, None) => trimmed,
        _ => return Err(format!("'{text}' has unbalanced braces; {ACCEPTED_FORMS}")),
    };
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }

    inner
        .split(',')
        .map(|item| {
            let item = item.trim();
            item.parse::<T>().map_err(|error| {
                format!("'{item}' in '{text}' is invalid ({error}); {ACCEPTED_FORMS}")
            })
        })
        .collect()
}

/// Parses a list of non-negative integers (sizes).
pub fn parse_sizes(text: &str) -> Result<Vec<usize>, String> {
    parse_list(text)
}

/// Parses a list of probabilities in [0, 1).
pub fn parse_probabilities(text: &str) -> Result<Vec<f64>, String> {
    let values: Vec<f64> = parse_list(text)?;
    if let Some(bad) = values.iter().find(|value| !(0.0..1.0).contains(*value)) {
        return Err(format!(
            "dropout probability {bad} in '{text}' is outside [0, 1)"
        ));
    }
    Ok(values)
}

/// A list-valued size flag such as `--channelSize '{96,96}'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeList(pub Vec<usize>);

impl FromStr for SizeList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        parse_sizes(text).map(Self)
    }
}

/// A list of dropout probabilities such as `--dropoutProb '{0.2,0.5}'`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbabilityList(pub Vec<f64>);

impl FromStr for ProbabilityList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        parse_probabilities(text).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_forms_parse() {
        assert_eq!(parse_sizes("{96,96}").unwrap(), vec![96, 96]);
        assert_eq!(parse_sizes("96,96").unwrap(), vec![96, 96]);
        assert_eq!(parse_sizes(" { 64, 96 ,96 } ").unwrap(), vec![64, 96, 96]);
        assert_eq!(parse_sizes("3000").unwrap(), vec![3000]);
        assert_eq!(parse_sizes("{}").unwrap(), Vec::<usize>::new());
    }

    #[test]
    fn list_errors_show_accepted_forms() {
        for bad in ["{96,96", "96;96", "{a}", "96,,96", "-5"] {
            let error = parse_sizes(bad).unwrap_err();
            assert!(error.contains(ACCEPTED_FORMS), "{bad}: {error}");
        }
        assert_eq!(
            parse_sizes("96,x").unwrap_err(),
            format!("'x' in '96,x' is invalid (invalid digit found in string); {ACCEPTED_FORMS}")
        );
    }

    #[test]
    fn probabilities_checked() {
        assert_eq!(parse_probabilities("{0.2,0.5}").unwrap(), vec![0.2, 0.5]);
        assert_eq!(
            parse_probabilities("0.2,1.5").unwrap_err(),
            "dropout probability 1.5 in '0.2,1.5' is outside [0, 1)"
        );
    }
}
