//! Recovery codes: ten single-use codes a person keeps on paper or in a password manager, to
//! sign in once when every passkey is gone (then they are asked to add a passkey).
//!
//! A code is 16 symbols of Crockford's base32 (80 bits), written in four groups of four. The
//! alphabet has no I, L, O or U, and reading is forgiving: case, spaces and dashes do not
//! matter and the look-alikes I/L → 1 and O → 0 are folded, so a code read off paper works.
//! 80 bits make an offline search of a leaked hash hopeless even with plain SHA-256, and
//! online guessing is rate limited; the hash is salted with the tenant so one table of
//! guesses cannot serve every tenant.

/// How many codes a person gets at a time.
pub const CODES_PER_SET: usize = 10;
/// Symbols in a code (5 bits each).
const SYMBOLS: usize = 16;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh set of codes, formatted for people (`ABCD-EFGH-JKMN-PQRS`).
pub fn generate() -> Vec<String> {
    (0..CODES_PER_SET)
        .map(|_| format_code(&random_symbols()))
        .collect()
}

fn random_symbols() -> String {
    let bytes = crate::crypto::random::bytes::<SYMBOLS>();
    // 256 is a multiple of 32, so taking the low five bits of each byte is uniform.
    bytes
        .iter()
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect()
}

fn format_code(symbols: &str) -> String {
    symbols
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form of what a person typed: upper case, separators dropped, look-alikes
/// folded; `None` when it cannot be a code (wrong length or a symbol outside the alphabet), so
/// no lookup is spent on it.
pub fn normalize(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(SYMBOLS);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\t' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == SYMBOLS).then_some(out)
}

/// What storage keeps of a code of `tenant_id` (canonical form from [`normalize`]).
pub fn hash(tenant_id: &str, canonical: &str) -> String {
    crate::crypto::hash::secret_hash(&format!("recovery-code\0{tenant_id}\0{canonical}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_distinct_codes_in_four_groups_that_normalize_to_themselves() {
        let codes = generate();
        assert_eq!(codes.len(), CODES_PER_SET);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), CODES_PER_SET);
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(code.matches('-').count(), 3);
            assert_eq!(normalize(code).unwrap(), code.replace('-', ""));
        }
    }

    #[test]
    fn reading_forgives_case_separators_and_look_alikes() {
        let canonical = "0123456789ABCDEF";
        for typed in [
            "0123-4567-89AB-CDEF",
            "0123 4567 89ab cdef",
            "o123-4567-89ab-cdef",
            "0I23456789abcdef",
            "0l23 4567 89AB CDEF",
        ] {
            assert_eq!(normalize(typed).as_deref(), Some(canonical), "{typed}");
        }
    }

    #[test]
    fn what_cannot_be_a_code_is_refused_before_any_lookup() {
        for typed in [
            "",
            "0123-4567-89AB-CDE",    // too short
            "0123-4567-89AB-CDEF-0", // too long
            "0123-4567-89AB-CDEU",   // U is not in the alphabet
            "0123-4567-89AB-CDÉF",
            "0123_4567_89AB_CDEF",
        ] {
            assert_eq!(normalize(typed), None, "{typed}");
        }
    }

    #[test]
    fn hashes_depend_on_the_tenant_and_the_code() {
        let a = hash("t1", "0123456789ABCDEF");
        assert_eq!(a, hash("t1", "0123456789ABCDEF"));
        assert_ne!(a, hash("t2", "0123456789ABCDEF"));
        assert_ne!(a, hash("t1", "0123456789ABCDEG"));
    }
}
