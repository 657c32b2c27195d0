//! Order files for `crude trade run`: CSV with the header
//! `contract,side,qty,type,price,tif,strategy`.
//!
//! * `contract`: specific (`CLF7`, `CLF27`, `CL 202701`) or generic (`CL1`, `CL2`, `RB1`,
//!   `HO1`); a generic resolves to the specific contract at the simulated time the order is
//!   sent.
//! * `side`: `buy` / `sell`; `qty`: whole contracts > 0.
//! * `type`: `market`, `limit`, `stop`, `stop_limit`.
//! * `price`: empty for market orders; the limit price for limits, the stop price for stops;
//!   for stop-limits either one price (stop and limit equal) or `STOP/LIMIT` (`70.50/70.60`).
//!   Negative prices are legal.
//! * `tif`: `day` (default when empty), `gtc`, `ioc`, `fok`; `strategy`: tag (`default`
//!   when empty).
//!
//! Every line is checked before anything runs (fields, tick grid, quantity limit, specific
//! contracts not expired at the start); all bad lines are reported at once, each naming the
//! line and the field.

use chrono::NaiveDate;
use crude_model::{
    Instruments, OrderRequest, OrderType, OrderValidationError, Side, Symbol, TimeInForce, ValidationConfig,
    parse_price, parse_qty, parse_symbol, validate_order_request,
};

/// The required header.
pub const ORDER_FILE_HEADER: [&str; 7] = ["contract", "side", "qty", "type", "price", "tif", "strategy"];

/// Most orders one file may hold.
pub const MAX_FILE_ORDERS: usize = 100_000;

/// One order line of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileOrder {
    /// 1-based line number in the file.
    pub line: u64,
    pub symbol: Symbol,
    pub side: Side,
    pub qty: i64,
    pub order_type: OrderType,
    pub limit_price: Option<f64>,
    pub stop_price: Option<f64>,
    pub tif: TimeInForce,
    pub strategy: String,
}

impl FileOrder {
    /// The request for this line with the symbol resolved on `date`.
    pub fn request(&self, date: NaiveDate, user: &str) -> OrderRequest {
        OrderRequest {
            contract: self.symbol.resolve(date),
            side: self.side,
            qty: self.qty,
            order_type: self.order_type,
            limit_price: self.limit_price,
            stop_price: self.stop_price,
            tif: self.tif,
            strategy: self.strategy.clone(),
            user: user.to_string(),
            client_order_id: None,
        }
    }
}

/// Splits the `price` column into (limit, stop) for `order_type`.
///
/// # Errors
/// [`OrderValidationError`] on field `price`.
pub fn split_price(order_type: OrderType, price: &str) -> Result<(Option<f64>, Option<f64>), OrderValidationError> {
    let p = price.trim();
    let rename = |e: OrderValidationError| OrderValidationError::new("price", e.reason);
    match order_type {
        OrderType::Market => {
            if p.is_empty() {
                Ok((None, None))
            } else {
                Err(OrderValidationError::new(
                    "price",
                    format!("'{p}' given for a market order; leave price empty or use type limit"),
                ))
            }
        }
        OrderType::Limit | OrderType::Stop => {
            let v = parse_price("price", p)?.ok_or_else(|| {
                OrderValidationError::new("price", format!("a {order_type} order needs a price; enter one"))
            })?;
            Ok(if order_type == OrderType::Limit { (Some(v), None) } else { (None, Some(v)) })
        }
        OrderType::StopLimit => {
            let (s, l) = match p.split_once('/') {
                Some((s, l)) => (s, l),
                None => (p, p),
            };
            let stop = parse_price("price", s).map_err(rename)?;
            let limit = parse_price("price", l).map_err(rename)?;
            match (stop, limit) {
                (Some(s), Some(l)) => Ok((Some(l), Some(s))),
                _ => Err(OrderValidationError::new(
                    "price",
                    "a stop_limit order needs a price: one number (stop = limit) or STOP/LIMIT such as 70.50/70.60",
                )),
            }
        }
    }
}

/// Parses and checks an order file. `reference` is the trading date at the start of the
/// run (for one-digit years and expiry); `user` is only used for the checks.
///
/// # Errors
/// Every problem found, one message per bad line naming the file, the line and the field.
pub fn parse_orders_csv(
    text: &str,
    file: &str,
    reference: NaiveDate,
    instruments: &Instruments,
    validation: &ValidationConfig,
    user: &str,
) -> Result<Vec<FileOrder>, Vec<String>> {
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![format!("{file} line 1: cannot read the header: {e}")]),
    };
    if header != ORDER_FILE_HEADER {
        return Err(vec![format!(
            "{file} line 1: the header must be `{}` (got `{}`)",
            ORDER_FILE_HEADER.join(","),
            header.join(",")
        )]);
    }
    let mut orders = Vec::new();
    let mut errors = Vec::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("{file} line {line}: unreadable CSV: {e}"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != ORDER_FILE_HEADER.len() {
            errors.push(format!(
                "{file} line {line}: {} fields, expected {} ({})",
                rec.len(),
                ORDER_FILE_HEADER.len(),
                ORDER_FILE_HEADER.join(",")
            ));
            continue;
        }
        if orders.len() >= MAX_FILE_ORDERS {
            errors.push(format!("{file} line {line}: more than {MAX_FILE_ORDERS} orders; split the file"));
            break;
        }
        match parse_line(&rec, line, reference, instruments, validation, user) {
            Ok(o) => orders.push(o),
            Err(e) => errors.push(format!("{file} line {line}, field {}: {}", e.field, e.reason)),
        }
    }
    if orders.is_empty() && errors.is_empty() {
        errors.push(format!("{file}: no orders after the header; add lines such as CL1,buy,1,market,,day,test"));
    }
    if errors.is_empty() { Ok(orders) } else { Err(errors) }
}

/// Parses a contract typed into an order: as [`parse_symbol`] on `date`, but a one-digit year
/// that lands nine or more years ahead is refused, because the trader almost always meant
/// the contract of that month that just expired (`CLZ6` in late 2026 would otherwise be
/// December 2036).
///
/// # Errors
/// [`OrderValidationError`] on field `contract`.
pub fn parse_order_symbol(text: &str, date: NaiveDate) -> Result<Symbol, OrderValidationError> {
    let symbol = parse_symbol(text, date).map_err(|e| {
        OrderValidationError::new("contract", format!("{e}; use a contract such as CLF7 or a generic such as CL1"))
    })?;
    if let Symbol::Specific(c) = symbol {
        let upper = text.trim().to_ascii_uppercase();
        let body = upper.strip_suffix("COMDTY").map_or(upper.as_str(), str::trim_end);
        let digits = body.chars().rev().take_while(char::is_ascii_digit).count();
        if digits == 1 && !body.contains(' ') && c.month.year - chrono::Datelike::year(&date) >= 9 {
            let recent = crude_model::ContractId::new(c.market, c.month.plus_months(-120));
            return Err(OrderValidationError::new(
                "contract",
                format!(
                    "{} resolves to {} ({}): {} expired on {}; write the year in full (e.g. {}) if you mean {}",
                    text.trim(),
                    crude_model::code_two_digit(&c),
                    c.month,
                    crude_model::code_two_digit(&recent),
                    recent.last_trade_date(),
                    crude_model::code_two_digit(&c),
                    c.month.year
                ),
            ));
        }
    }
    Ok(symbol)
}

fn parse_line(
    rec: &csv::StringRecord,
    line: u64,
    reference: NaiveDate,
    instruments: &Instruments,
    validation: &ValidationConfig,
    user: &str,
) -> Result<FileOrder, OrderValidationError> {
    let field = |i: usize| rec.get(i).unwrap_or("").trim();
    let symbol = parse_order_symbol(field(0), reference)?;
    let side: Side = field(1).parse()?;
    let qty = parse_qty(field(2))?;
    let order_type: OrderType = field(3).parse()?;
    let (limit_price, stop_price) = split_price(order_type, field(4))?;
    let tif = if field(5).is_empty() { TimeInForce::Day } else { field(5).parse()? };
    let strategy = if field(6).is_empty() { "default".to_string() } else { field(6).to_string() };
    let o = FileOrder { line, symbol, side, qty, order_type, limit_price, stop_price, tif, strategy };
    // Everything but the fat-finger band (which needs the market) is checked now.
    let req = o.request(reference, user);
    validate_order_request(&req, instruments, reference, None, validation).map_err(|e| match e.field {
        "limit_price" | "stop_price" => OrderValidationError::new("price", e.reason),
        _ => e,
    })?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<FileOrder>, Vec<String>> {
        parse_orders_csv(
            text,
            "o.csv",
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            &Instruments::builtin().unwrap(),
            &ValidationConfig::default(),
            "u",
        )
    }

    #[test]
    fn parses_every_type() {
        let o = parse(
            "contract,side,qty,type,price,tif,strategy\n\
             CLF7,buy,5,limit,71.25,day,s1\n\
             CL1,sell,2,market,,,\n\
             RB1,buy,1,stop,2.1050,gtc,x\n\
             HO1,sell,1,stop_limit,2.40/2.39,day,x\n\
             BZ2,buy,1,stop_limit,-1.50,ioc,x\n",
        );
        // stop_limit with ioc is refused (a stop cannot be immediate).
        let errs = o.unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("line 6, field tif"), "{errs:?}");
        let o = parse(
            "contract,side,qty,type,price,tif,strategy\nCLF7,buy,5,limit,71.25,day,s1\nCL1,sell,2,market,,,\nHO1,sell,1,stop_limit,2.40/2.39,day,x\n",
        )
        .unwrap();
        assert_eq!(o.len(), 3);
        assert_eq!(o[0].line, 2);
        assert_eq!(o[1].tif, TimeInForce::Day);
        assert_eq!(o[1].strategy, "default");
        assert!(matches!(o[1].symbol, Symbol::Generic { n: 1, .. }));
        assert_eq!((o[2].stop_price, o[2].limit_price), (Some(2.40), Some(2.39)));
    }

    #[test]
    fn reports_every_bad_line_with_its_field() {
        let errs = parse(
            "contract,side,qty,type,price,tif,strategy\n\
             CLF7,buy,0,limit,71.25,day,s\n\
             XXF7,buy,1,market,,day,s\n\
             CLF7,hold,1,market,,day,s\n\
             CLF7,buy,1.5,market,,day,s\n\
             CLF7,buy,1,limit,71.255,day,s\n\
             CLF7,buy,1,limit,NaN,day,s\n\
             CLF7,buy,1,market,70,day,s\n\
             CLZ26,buy,1,market,,day,s\n\
             CLF7,buy,1,market\n\
             CLF7,buy,1,limit,,day,s\n",
        )
        .unwrap_err();
        let expect = [
            ("line 2", "qty"),
            ("line 3", "contract"),
            ("line 4", "side"),
            ("line 5", "qty"),
            ("line 6", "price"),
            ("line 7", "price"),
            ("line 8", "price"),
            ("line 9", "contract"),
            ("line 10", "fields"),
            ("line 11", "price"),
        ];
        assert_eq!(errs.len(), expect.len(), "{errs:#?}");
        for (e, (line, field)) in errs.iter().zip(expect) {
            assert!(e.contains(line) && e.contains(field), "{e} should name {line} and {field}");
        }
    }

    #[test]
    fn one_digit_years_that_jump_a_decade_are_refused() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let e = parse_order_symbol("CLZ6", d).unwrap_err();
        assert_eq!(e.field, "contract");
        assert!(e.reason.contains("CLZ26 expired on 2026-11-20"), "{e}");
        assert!(parse_order_symbol("CLZ36", d).is_ok());
        assert!(parse_order_symbol("CLF7", d).is_ok());
        assert!(parse_order_symbol("CL1", d).is_ok());
        assert!(parse_order_symbol("CLZ6 Comdty", d).is_err());
    }

    #[test]
    fn header_and_empty_files() {
        assert!(parse("contract,side,qty\nCL1,buy,1\n").unwrap_err()[0].contains("header"));
        assert!(parse("contract,side,qty,type,price,tif,strategy\n").unwrap_err()[0].contains("no orders"));
    }
}
