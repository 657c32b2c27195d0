//! The Trade panel: the order ticket with its live pre-trade preview, the price ladder of
//! the ticket's contract, and the trading activity log.
//!
//! The ticket is keyboard-first: `Ctrl+N` starts a new order (handled by the shell), `B` /
//! `S` pick the side when no text field has focus, `Enter` submits, `Esc` closes the
//! confirmation or clears the entry. Every field change schedules a preview request to the
//! trading worker after a short debounce; the panel never validates against the book
//! itself, it only parses what was typed (so an unparsable field is named at once).
//! Orders larger than [`TradeState::confirm_above_qty`] ask for confirmation.
//!
//! Spread mode ([`TicketMode`]): WTI-Brent, a crack (RBOB or heating oil against WTI) or
//! the 3:2:1 crack, each leg's month picked like the outright contract, entered as one
//! spread of linked legs at the market or at per-leg limit prices. The preview checks all
//! legs together on the worker; a spread is confirmed when a leg is above the
//! confirmation size.

use crude_model::{
    ContractId, Instruments, Market, OrderRequest, OrderType, PreTradeDecision, PreTradeResult, SeriesId, Side,
    TimeInForce, Timestamp, parse_price, parse_qty, trading_date,
};
use crude_trading::SpreadRequest;
use crude_trading::orders_file::parse_order_symbol;
use egui::{Key, RichText, vec2};
use serde::{Deserialize, Serialize};

use crate::format;
use crate::panels::ladder::{self, LadderAction, LadderState};
use crate::panels::positions::usd;
use crate::theme::{self, labeled};
use crate::view_model::ViewModel;
use crude_kernel::services::trading::{ActivityLevel, TicketError, TradingCommand, TradingStatus, TradingView};

/// Quiet time after the last field change before the preview is requested.
pub const PREVIEW_DEBOUNCE_MS: i64 = 150;
/// While the ticket is unchanged, the preview is refreshed at most this often as the book moves.
pub const PREVIEW_REFRESH_MS: i64 = 1_000;

/// What the ticket enters: one contract, or a spread of linked legs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketMode {
    #[default]
    Outright,
    /// Buy WTI, sell Brent (one for one).
    WtiBrent,
    /// Buy the product (RBOB or heating oil), sell WTI (one for one).
    Crack,
    /// Buy 2 RBOB and 1 heating oil, sell 3 WTI.
    Crack321,
}

impl TicketMode {
    /// Every mode, in the selector's order.
    pub const ALL: [TicketMode; 4] =
        [TicketMode::Outright, TicketMode::WtiBrent, TicketMode::Crack, TicketMode::Crack321];

    /// The selector's text: `Outright`, `WTI-Brent`, `Crack`, `3-2-1 crack`.
    pub const fn label(self) -> &'static str {
        match self {
            TicketMode::Outright => "Outright",
            TicketMode::WtiBrent => "WTI-Brent",
            TicketMode::Crack => "Crack",
            TicketMode::Crack321 => "3-2-1 crack",
        }
    }

    /// The markets of the legs, in the spread's leg order (`product` is the crack's).
    pub fn leg_markets(self, product: Market) -> Vec<Market> {
        match self {
            TicketMode::Outright => Vec::new(),
            TicketMode::WtiBrent => vec![Market::Wti, Market::Brent],
            TicketMode::Crack => vec![product, Market::Wti],
            TicketMode::Crack321 => vec![Market::Rbob, Market::HeatingOil, Market::Wti],
        }
    }
}

/// One leg's entry in spread mode.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SpreadLegEntry {
    /// Contract as typed or picked (`CLF7`, `BZ1`); empty takes the market's front month.
    pub contract: String,
    /// Limit price of the leg, used when the legs are priced.
    pub limit_price: String,
}

/// The spread part of the ticket (persisted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpreadTicket {
    /// The crack's product leg: RBOB or heating oil.
    pub crack_product: Market,
    /// One entry per market, by [`Market::index`].
    pub legs: [SpreadLegEntry; 4],
    /// Each leg at its limit price (else every leg at the market).
    pub limit: bool,
}

impl Default for SpreadTicket {
    fn default() -> Self {
        Self { crack_product: Market::Rbob, legs: Default::default(), limit: false }
    }
}

/// The ticket's fields and settings (persisted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TradeState {
    /// Outright or one of the spreads.
    pub mode: TicketMode,
    /// Legs of the spread modes.
    pub spread: SpreadTicket,
    /// Contract as typed or picked (`CLF7`, `CL1`).
    pub contract: String,
    pub side: Side,
    pub qty: String,
    pub order_type: OrderType,
    pub limit_price: String,
    pub stop_price: String,
    pub tif: TimeInForce,
    pub strategy: String,
    /// Orders of more contracts than this ask for confirmation.
    pub confirm_above_qty: i64,
    /// Quantity of a single-click ladder order.
    pub ladder_qty: String,
}

impl Default for TradeState {
    fn default() -> Self {
        Self {
            mode: TicketMode::Outright,
            spread: SpreadTicket::default(),
            contract: String::new(),
            side: Side::Buy,
            qty: "1".into(),
            order_type: OrderType::Limit,
            limit_price: String::new(),
            stop_price: String::new(),
            tif: TimeInForce::Day,
            strategy: "manual".into(),
            confirm_above_qty: 10,
            ladder_qty: "1".into(),
        }
    }
}

impl TradeState {
    /// A fresh entry (`Ctrl+N`, `Esc`): quantity back to the ladder default, prices cleared;
    /// contract, side, type, time in force and strategy stay.
    pub fn clear_entry(&mut self) {
        self.qty = self.ladder_qty.clone();
        self.limit_price.clear();
        self.stop_price.clear();
        for l in &mut self.spread.legs {
            l.limit_price.clear();
        }
    }

    /// Loads a price clicked elsewhere.
    pub fn apply_prefill(&mut self, p: &OrderTicketPrefill) {
        self.mode = TicketMode::Outright;
        self.contract = p.contract.to_string();
        if let Some(s) = p.side {
            self.side = s;
        }
        if let Some(px) = p.price {
            self.order_type = OrderType::Limit;
            self.limit_price = format::price(p.contract.market, Some(px));
            self.stop_price.clear();
        }
    }
}

/// A contract, side and price chosen outside the ticket (a click on the quote board) to
/// load into it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderTicketPrefill {
    pub contract: ContractId,
    pub side: Option<Side>,
    pub price: Option<f64>,
}

/// What the ticket describes: an order or a spread.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketRequest {
    Order(OrderRequest),
    Spread(SpreadRequest),
}

impl TicketRequest {
    /// Contracts of the largest order (leg) it enters.
    pub fn largest_qty(&self) -> i64 {
        match self {
            TicketRequest::Order(r) => r.qty,
            TicketRequest::Spread(s) => s.leg_orders().iter().map(|(_, _, q)| *q).max().unwrap_or(0),
        }
    }

    /// One line describing it (see [`describe`] and [`describe_spread`]).
    pub fn describe(&self) -> String {
        match self {
            TicketRequest::Order(r) => describe(r),
            TicketRequest::Spread(s) => describe_spread(s),
        }
    }

    fn side(&self) -> Side {
        match self {
            TicketRequest::Order(r) => r.side,
            TicketRequest::Spread(s) => s.side,
        }
    }
}

/// Per-session state of the Trade panel (not persisted).
#[derive(Default)]
pub struct TradeCache {
    next_request_id: u64,
    /// The request the fields currently describe, and since when (wall time).
    current: Option<TicketRequest>,
    changed_wall: Timestamp,
    /// The last previewed request, its id, when it was sent and the snapshot it saw.
    previewed: Option<TicketRequest>,
    preview_id: u64,
    preview_wall: Timestamp,
    preview_generation: u64,
    /// The last submitted request's id and whether it was a spread.
    submit_id: Option<(u64, bool)>,
    /// The last submitted spread (to name its legs in the answer).
    submitted_spread: Option<SpreadRequest>,
    /// An order or spread waiting for confirmation.
    confirm: Option<TicketRequest>,
    /// Put the keyboard in the quantity field on the next frame.
    focus_qty: bool,
    ladder: LadderState,
    instruments: Option<Instruments>,
    /// Off while another dialog (the kill switch) owns the keyboard.
    keys_disabled: bool,
}

impl TradeCache {
    fn request_id(&mut self) -> u64 {
        self.next_request_id += 1;
        self.next_request_id
    }

    /// Starts a new order: clears the entry and focuses the quantity field.
    pub fn new_order(&mut self, state: &mut TradeState) {
        state.clear_entry();
        self.confirm = None;
        self.focus_qty = true;
    }

    /// Whether the ticket's keys (B, S, C, Enter, Esc) act; off while another dialog is open.
    pub fn set_keys_enabled(&mut self, enabled: bool) {
        self.keys_disabled = !enabled;
    }

    /// Whether an order confirmation is open.
    pub fn confirming(&self) -> bool {
        self.confirm.is_some()
    }

    fn instruments(&mut self) -> Option<&Instruments> {
        if self.instruments.is_none() {
            self.instruments = Instruments::builtin().ok();
        }
        self.instruments.as_ref()
    }

    fn tick(&mut self, m: Market) -> f64 {
        match self.instruments() {
            Some(i) => i.spec(m).tick_size,
            None => 10f64.powi(-(format::decimals(m) as i32)),
        }
    }
}

/// The trading date contract codes resolve against: the engine's, else the feed's.
fn reference_date(store: &ViewModel) -> Option<chrono::NaiveDate> {
    store.trading().snapshot.as_ref().map(|s| s.trading_date).or_else(|| store.feed_time().map(trading_date))
}

/// Builds the order the ticket describes; errors name the field.
///
/// # Errors
/// [`TicketError`] naming `contract`, `qty`, `limit_price`, `stop_price` or `strategy`.
pub fn ticket_request(state: &TradeState, date: Option<chrono::NaiveDate>) -> Result<OrderRequest, TicketError> {
    let err =
        |e: crude_model::OrderValidationError| TicketError { field: Some(e.field.to_string()), message: e.reason };
    let Some(date) = date else {
        return Err(TicketError {
            field: Some("contract".into()),
            message: "no market time yet to resolve the contract; wait for quotes".into(),
        });
    };
    if state.contract.trim().is_empty() {
        return Err(TicketError {
            field: Some("contract".into()),
            message: "is empty; pick a market and month or type a contract such as CLF7".into(),
        });
    }
    let contract = parse_order_symbol(&state.contract, date).map_err(err)?.resolve(date);
    let qty = parse_qty(&state.qty).map_err(err)?;
    let (limit_price, stop_price) = match state.order_type {
        OrderType::Market => (None, None),
        OrderType::Limit => (parse_price("limit_price", &state.limit_price).map_err(err)?, None),
        OrderType::Stop => (None, parse_price("stop_price", &state.stop_price).map_err(err)?),
        OrderType::StopLimit => (
            parse_price("limit_price", &state.limit_price).map_err(err)?,
            parse_price("stop_price", &state.stop_price).map_err(err)?,
        ),
    };
    Ok(OrderRequest {
        contract,
        side: state.side,
        qty,
        order_type: state.order_type,
        limit_price,
        stop_price,
        tif: state.tif,
        strategy: state.strategy.trim().to_string(),
        user: "trader".into(),
        client_order_id: None,
    })
}

/// One line describing an order request: `BUY 5 CLF7 LIMIT 71.25 DAY (manual)`.
pub fn describe(r: &OrderRequest) -> String {
    let m = r.contract.market;
    let px = match r.order_type {
        OrderType::Market => String::new(),
        OrderType::Limit => format!(" {}", format::price(m, r.limit_price)),
        OrderType::Stop => format!(" {}", format::price(m, r.stop_price)),
        OrderType::StopLimit => {
            format!(" {} / {}", format::price(m, r.stop_price), format::price(m, r.limit_price))
        }
    };
    format!(
        "{} {} {} {}{px} {} ({})",
        r.side.as_str().to_uppercase(),
        r.qty,
        r.contract,
        r.order_type.as_str().to_uppercase(),
        r.tif.as_str().to_uppercase(),
        r.strategy
    )
}

/// The contract a spread leg entry names (`CLF7`, `CL1`), checked to be of `market`.
fn leg_contract(entry: &SpreadLegEntry, market: Market, date: chrono::NaiveDate) -> Result<ContractId, TicketError> {
    let field = Some(format!("{} leg", market.code()));
    if entry.contract.trim().is_empty() {
        return Err(TicketError { field, message: "is empty; pick a month".into() });
    }
    let c = parse_order_symbol(&entry.contract, date)
        .map_err(|e| TicketError { field: field.clone(), message: e.reason })?
        .resolve(date);
    if c.market != market {
        return Err(TicketError { field, message: format!("{c} is not a {} contract", market.code()) });
    }
    Ok(c)
}

/// Builds the spread the ticket describes in a spread mode; errors name the leg and field.
///
/// # Errors
/// [`TicketError`] naming `qty`, `<market> leg` (the contract) or `<market> leg limit_price`,
/// or the spread's own error (e.g. a crack product that is not RB or HO).
pub fn spread_request(state: &TradeState, date: Option<chrono::NaiveDate>) -> Result<SpreadRequest, TicketError> {
    let Some(date) = date else {
        return Err(TicketError {
            field: Some("contract".into()),
            message: "no market time yet to resolve the legs; wait for quotes".into(),
        });
    };
    let markets = state.mode.leg_markets(state.spread.crack_product);
    let entry = |m: Market| &state.spread.legs[m.index()];
    let mut contracts = Vec::with_capacity(markets.len());
    for m in &markets {
        contracts.push(leg_contract(entry(*m), *m, date)?);
    }
    let qty = parse_qty(&state.qty).map_err(|e| TicketError { field: Some(e.field.to_string()), message: e.reason })?;
    if qty <= 0 {
        return Err(TicketError {
            field: Some("qty".into()),
            message: format!("{qty} is not a positive whole number of spreads; enter e.g. 1"),
        });
    }
    let spread_err = |e: crude_trading::TradingError| TicketError { field: None, message: e.to_string() };
    let mut req = match (state.mode, contracts.as_slice()) {
        (TicketMode::WtiBrent, [cl, bz]) => SpreadRequest::wti_brent(*cl, *bz, state.side, qty).map_err(spread_err)?,
        (TicketMode::Crack, [product, cl]) => {
            SpreadRequest::crack(*cl, *product, state.side, qty).map_err(spread_err)?
        }
        (TicketMode::Crack321, [rb, ho, cl]) => {
            SpreadRequest::crack_321(*cl, *rb, *ho, state.side, qty).map_err(spread_err)?
        }
        _ => {
            return Err(TicketError { field: None, message: "pick a spread: WTI-Brent, Crack or 3-2-1 crack".into() });
        }
    };
    if state.spread.limit {
        for leg in &mut req.legs {
            let m = leg.contract.market;
            let field = Some(format!("{} leg limit_price", m.code()));
            let parsed = parse_price("limit_price", &entry(m).limit_price)
                .map_err(|e| TicketError { field: field.clone(), message: e.reason })?;
            let Some(px) = parsed else {
                return Err(TicketError {
                    field,
                    message: "is empty; enter the leg's price or choose market legs".into(),
                });
            };
            leg.limit_price = Some(px);
        }
    }
    req.tif = state.tif;
    req.strategy = state.strategy.trim().to_string();
    req.validate_shape().map_err(spread_err)?;
    Ok(req)
}

/// The ticket's request in its mode.
///
/// # Errors
/// As [`ticket_request`] and [`spread_request`].
pub fn current_request(state: &TradeState, date: Option<chrono::NaiveDate>) -> Result<TicketRequest, TicketError> {
    match state.mode {
        TicketMode::Outright => ticket_request(state, date).map(TicketRequest::Order),
        _ => spread_request(state, date).map(TicketRequest::Spread),
    }
}

/// One line describing a spread: `BUY 2 WTI-Brent CLF7/BZF7 MARKET DAY (manual)`, or with
/// `LIMIT 70.10/74.20` when the legs are priced.
pub fn describe_spread(s: &SpreadRequest) -> String {
    let contracts: Vec<String> = s.legs.iter().map(|l| l.contract.to_string()).collect();
    let pricing = if s.legs.iter().all(|l| l.limit_price.is_some()) {
        let px: Vec<String> = s.legs.iter().map(|l| format::price(l.contract.market, l.limit_price)).collect();
        format!("LIMIT {}", px.join("/"))
    } else {
        "MARKET".to_string()
    };
    format!(
        "{} {} {} {} {pricing} {} ({})",
        s.side.as_str().to_uppercase(),
        s.qty,
        s.name,
        contracts.join("/"),
        s.tif.as_str().to_uppercase(),
        s.strategy
    )
}

fn header(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).color(theme::MUTED).small().strong());
}

/// Routes an entry: through the confirmation when an order (leg) is large, else to the worker.
fn enter(state: &TradeState, cache: &mut TradeCache, req: TicketRequest, out: &mut Vec<TradingCommand>) {
    if req.largest_qty() > state.confirm_above_qty {
        cache.confirm = Some(req);
    } else {
        send_entry(cache, req, out);
    }
}

fn send_entry(cache: &mut TradeCache, req: TicketRequest, out: &mut Vec<TradingCommand>) {
    let id = cache.request_id();
    match req {
        TicketRequest::Order(request) => {
            cache.submit_id = Some((id, false));
            out.push(TradingCommand::Submit { request_id: id, request });
        }
        TicketRequest::Spread(request) => {
            cache.submit_id = Some((id, true));
            cache.submitted_spread = Some(request.clone());
            out.push(TradingCommand::SubmitSpread { request_id: id, request });
        }
    }
}

/// Draw the Trade panel.
pub fn show(
    ui: &mut egui::Ui,
    store: &ViewModel,
    state: &mut TradeState,
    cache: &mut TradeCache,
    out: &mut Vec<TradingCommand>,
    wall_now: Timestamp,
) {
    let view = store.trading();
    let focused_at_start = ui.ctx().memory(|m| m.focused());
    let typing = ui.ctx().egui_wants_keyboard_input();
    if state.contract.is_empty()
        && let Some(f) = store.front(Market::Wti)
    {
        state.contract = f.to_string();
    }
    let date = reference_date(store);
    // Empty spread legs start at their market's front month.
    for m in state.mode.leg_markets(state.spread.crack_product) {
        let leg = &mut state.spread.legs[m.index()];
        if leg.contract.is_empty() {
            if let Some(f) = store.front(m) {
                leg.contract = f.to_string();
            } else if let Some(d) = date {
                leg.contract = m.front_contract(d).to_string();
            }
        }
    }
    let request = current_request(state, date);
    // The ladder follows the outright contract.
    let contract = match &request {
        Ok(TicketRequest::Order(r)) => Some(r.contract),
        _ => date.and_then(|d| parse_order_symbol(&state.contract, d).ok().map(|s| s.resolve(d))),
    };

    // Keys that act on the ticket when no text field has the keyboard.
    if !typing && cache.confirm.is_none() && !cache.keys_disabled {
        ui.input(|i| {
            if i.key_pressed(Key::B) && i.modifiers.is_none() {
                state.side = Side::Buy;
            }
            if i.key_pressed(Key::S) && i.modifiers.is_none() {
                state.side = Side::Sell;
            }
            if i.key_pressed(Key::C) && i.modifiers.is_none() {
                cache.ladder.recentre();
            }
        });
    }

    let mut field_ids: Vec<egui::Id> = Vec::new();
    egui::Panel::left("trade_ticket")
        .resizable(false)
        .exact_size(400.0)
        .frame(egui::Frame::new().fill(theme::BG).inner_margin(8.0))
        .show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("ticket_scroll").show(ui, |ui| {
                ticket(ui, store, state, cache, &request, out, wall_now, &mut field_ids);
            });
        });
    egui::Panel::right("trade_activity")
        .resizable(true)
        .default_size(420.0)
        .frame(egui::Frame::new().fill(theme::BG).inner_margin(8.0))
        .show(ui, |ui| activity(ui, view));
    egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::BG).inner_margin(8.0)).show(ui, |ui| {
        match contract {
            Some(c) => {
                let tick = cache.tick(c.market);
                let actions = ladder::show(ui, store, c, tick, &mut state.ladder_qty, &mut cache.ladder);
                for a in actions {
                    match a {
                        LadderAction::Enter(mut req) => {
                            req.strategy = state.strategy.trim().to_string();
                            req.tif = state.tif;
                            enter(state, cache, TicketRequest::Order(req), out);
                        }
                        LadderAction::Command(c) => out.push(c),
                    }
                }
            }
            None => {
                ui.label(RichText::new("Pick a contract to see its price ladder").color(theme::MUTED));
            }
        }
    });

    // Confirmation of a large order.
    if let Some(req) = cache.confirm.clone() {
        let mut close = false;
        let mut send = false;
        let modal = egui::Modal::new(egui::Id::unique("order_confirm")).show(ui.ctx(), |ui| {
            ui.set_width(420.0);
            ui.heading("Confirm order");
            let text = req.describe();
            labeled(ui, RichText::new(&text).monospace().strong(), format!("Confirm order {text}"));
            let what = match &req {
                TicketRequest::Order(r) => format!("{} contracts is", r.qty),
                TicketRequest::Spread(_) => format!("A leg of {} contracts is", req.largest_qty()),
            };
            ui.label(
                RichText::new(format!("{what} above the confirmation size of {}.", state.confirm_above_qty))
                    .color(theme::WARNING),
            );
            ui.horizontal(|ui| {
                if ui.button(RichText::new("Send order").strong()).clicked() {
                    send = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if !cache.keys_disabled {
            ui.input(|i| {
                if i.key_pressed(Key::Enter) {
                    send = true;
                }
                if i.key_pressed(Key::Escape) {
                    close = true;
                }
            });
        }
        if modal.backdrop_response.clicked() {
            close = true;
        }
        if send {
            send_entry(cache, req, out);
            cache.confirm = None;
        } else if close {
            cache.confirm = None;
        }
        return;
    }

    // Enter submits (from a ticket field or with nothing focused); Esc clears the entry.
    let (enter_pressed, esc_pressed) = ui.input(|i| (i.key_pressed(Key::Enter), i.key_pressed(Key::Escape)));
    let from_ticket = !cache.keys_disabled && focused_at_start.is_none_or(|f| field_ids.contains(&f));
    if enter_pressed && from_ticket {
        submit_current(state, cache, &request, out);
    }
    if esc_pressed && from_ticket {
        state.clear_entry();
        ui.ctx().memory_mut(|m| {
            if let Some(f) = m.focused() {
                m.surrender_focus(f);
            }
        });
    }
}

fn submit_current(
    state: &TradeState,
    cache: &mut TradeCache,
    request: &Result<TicketRequest, TicketError>,
    out: &mut Vec<TradingCommand>,
) {
    if let Ok(req) = request {
        enter(state, cache, req.clone(), out);
    }
}

/// A single-line text field labelled for assistive technology.
fn field(ui: &mut egui::Ui, label: &str, value: &mut String, width: f32, ids: &mut Vec<egui::Id>) -> egui::Response {
    let l = ui.label(RichText::new(label).color(theme::MUTED));
    let r = ui
        .add(egui::TextEdit::singleline(value).desired_width(width).font(egui::TextStyle::Monospace))
        .labelled_by(l.id);
    ids.push(r.id);
    r
}

#[allow(clippy::too_many_arguments)]
fn ticket(
    ui: &mut egui::Ui,
    store: &ViewModel,
    state: &mut TradeState,
    cache: &mut TradeCache,
    request: &Result<TicketRequest, TicketError>,
    out: &mut Vec<TradingCommand>,
    wall_now: Timestamp,
    field_ids: &mut Vec<egui::Id>,
) {
    let view = store.trading();
    header(ui, "ORDER TICKET");
    trading_state_line(ui, view);
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        for mode in TicketMode::ALL {
            let sel = state.mode == mode;
            let r = ui.selectable_label(sel, RichText::new(mode.label()).monospace());
            r.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, sel, format!("Ticket mode {}", mode.label()))
            });
            if r.clicked() {
                state.mode = mode;
            }
        }
    });
    ui.add_space(4.0);
    if state.mode == TicketMode::Outright {
        outright_contract(ui, store, state, field_ids);
    } else {
        spread_legs(ui, store, state, cache, request, field_ids);
    }
    ui.add_space(4.0);
    side_and_fields(ui, view, state, cache, field_ids);

    // Submit.
    ui.add_space(6.0);
    let ready = view.ready();
    let (text, color) = match request {
        Ok(r) => (format!("Submit {}", r.describe()), if r.side() == Side::Buy { theme::PROFIT } else { theme::LOSS }),
        Err(_) => ("Submit".to_string(), theme::MUTED),
    };
    let r = ui.add_enabled(
        ready && request.is_ok(),
        egui::Button::new(RichText::new(text).strong().color(color)).min_size(vec2(360.0, 28.0)),
    );
    let name = if state.mode == TicketMode::Outright { "Submit order" } else { "Submit spread" };
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, ready && request.is_ok(), name));
    if r.clicked() {
        submit_current(state, cache, request, out);
    }
    ui.label(RichText::new("Enter submits, Esc clears, Ctrl+N new order, B/S side").small().color(theme::MUTED));

    // Ticket problems first, then the preview.
    ui.add_space(6.0);
    match request {
        Err(e) => {
            labeled(ui, RichText::new(e.to_string()).color(theme::LOSS), format!("Ticket error {e}"));
            cache.current = None;
        }
        Ok(req) => preview(ui, store, cache, req, out, wall_now),
    }
    ui.add_space(6.0);
    submit_result(ui, view, cache);
}

/// The outright contract picker: market, then month among the listed contracts.
fn outright_contract(ui: &mut egui::Ui, store: &ViewModel, state: &mut TradeState, field_ids: &mut Vec<egui::Id>) {
    let date = reference_date(store);
    let current = date.and_then(|d| parse_order_symbol(&state.contract, d).ok().map(|s| s.resolve(d)));
    ui.horizontal(|ui| {
        for m in Market::ALL {
            let sel = current.is_some_and(|c| c.market == m);
            let r = ui.selectable_label(sel, RichText::new(m.code()).monospace());
            r.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, sel, format!("Ticket market {}", m.code()))
            });
            if r.clicked() && !sel {
                state.contract = match (store.front(m), date) {
                    (Some(f), _) => f.to_string(),
                    (None, Some(d)) => m.front_contract(d).to_string(),
                    (None, None) => format!("{}1", m.code()),
                };
            }
        }
    });
    ui.horizontal(|ui| {
        let months: Vec<ContractId> = store
            .board()
            .filter_map(|(id, _)| match id {
                SeriesId::Contract(c) if current.is_some_and(|cur| cur.market == c.market) => Some(c),
                _ => None,
            })
            .filter(|c| date.is_none_or(|d| c.last_trade_date() >= d))
            .collect();
        let label = current.map_or("—".to_string(), |c| c.to_string());
        let combo = egui::ComboBox::from_id_salt("ticket_month")
            .selected_text(RichText::new(&label).monospace())
            .show_ui(ui, |ui| {
                for c in &months {
                    if ui.selectable_label(Some(*c) == current, RichText::new(c.to_string()).monospace()).clicked() {
                        state.contract = c.to_string();
                    }
                }
            });
        combo
            .response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, format!("Ticket month {label}")));
        field(ui, "Contract", &mut state.contract, 90.0, field_ids);
    });
    if let Some(c) = current
        && let Some(q) = store.quote(SeriesId::Contract(c))
    {
        let m = c.market;
        ui.horizontal(|ui| {
            let bid = format::price(m, q.bid);
            let ask = format::price(m, q.ask);
            labeled(
                ui,
                RichText::new(format!("bid {bid}")).monospace().color(theme::ACCENT),
                format!("Ticket bid {bid}"),
            );
            labeled(
                ui,
                RichText::new(format!("ask {ask}")).monospace().color(theme::LOSS),
                format!("Ticket ask {ask}"),
            );
            let last = format::price(m, q.last);
            labeled(ui, RichText::new(format!("last {last}")).monospace(), format!("Ticket last {last}"));
        });
    }
}

/// Side, quantity, type and prices (outright) or leg pricing (spreads), TIF, strategy.
fn side_and_fields(
    ui: &mut egui::Ui,
    view: &TradingView,
    state: &mut TradeState,
    cache: &mut TradeCache,
    field_ids: &mut Vec<egui::Id>,
) {
    ui.horizontal(|ui| {
        for (side, text, color) in [(Side::Buy, "BUY (B)", theme::PROFIT), (Side::Sell, "SELL (S)", theme::LOSS)] {
            let sel = state.side == side;
            let rt = RichText::new(text).strong().color(if sel { color } else { theme::MUTED });
            let r = ui.add(egui::Button::selectable(sel, rt).min_size(vec2(90.0, 24.0)));
            r.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, sel, format!("Side {}", side.as_str()))
            });
            if r.clicked() {
                state.side = side;
            }
        }
    });
    // Quantity, type, prices, TIF, strategy.
    egui::Grid::new("ticket_grid").num_columns(2).spacing(vec2(8.0, 6.0)).show(ui, |ui| {
        let r = field(ui, "Qty", &mut state.qty, 120.0, field_ids);
        if cache.focus_qty {
            r.request_focus();
            cache.focus_qty = false;
        }
        ui.end_row();
        if state.mode == TicketMode::Outright {
            ui.label(RichText::new("Type").color(theme::MUTED));
            ui.horizontal(|ui| {
                for t in [OrderType::Market, OrderType::Limit, OrderType::Stop, OrderType::StopLimit] {
                    let sel = state.order_type == t;
                    let r = ui.selectable_label(sel, RichText::new(t.as_str()).monospace());
                    r.widget_info(|| {
                        egui::WidgetInfo::selected(egui::Role::Button, true, sel, format!("Type {}", t.as_str()))
                    });
                    if r.clicked() {
                        state.order_type = t;
                    }
                }
            });
            ui.end_row();
            if state.order_type.needs_limit() {
                field(ui, "Limit price", &mut state.limit_price, 120.0, field_ids);
                ui.end_row();
            }
            if state.order_type.needs_stop() {
                field(ui, "Stop price", &mut state.stop_price, 120.0, field_ids);
                ui.end_row();
            }
        } else {
            ui.label(RichText::new("Legs").color(theme::MUTED));
            ui.horizontal(|ui| {
                for (limit, text) in [(false, "market"), (true, "limit")] {
                    let sel = state.spread.limit == limit;
                    let r = ui.selectable_label(sel, RichText::new(text).monospace());
                    r.widget_info(|| {
                        egui::WidgetInfo::selected(egui::Role::Button, true, sel, format!("Spread legs {text}"))
                    });
                    if r.clicked() {
                        state.spread.limit = limit;
                    }
                }
            });
            ui.end_row();
        }
        ui.label(RichText::new("TIF").color(theme::MUTED));
        ui.horizontal(|ui| {
            for t in [TimeInForce::Day, TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok] {
                let sel = state.tif == t;
                let r = ui.selectable_label(sel, RichText::new(t.as_str().to_uppercase()).monospace());
                r.widget_info(|| {
                    egui::WidgetInfo::selected(egui::Role::Button, true, sel, format!("TIF {}", t.as_str()))
                });
                if r.clicked() {
                    state.tif = t;
                }
            }
        });
        ui.end_row();
        field(ui, "Strategy", &mut state.strategy, 160.0, field_ids);
        ui.end_row();
        let l = ui.label(RichText::new("Confirm above").color(theme::MUTED));
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut state.confirm_above_qty).range(1..=1_000_000).suffix(" contracts"))
                .labelled_by(l.id);
            if let Some(max) = view.snapshot.as_ref().map(|s| s.max_order_qty) {
                ui.label(
                    RichText::new(format!("max {} per order", format::volume(max.max(0) as u64)))
                        .small()
                        .color(theme::MUTED),
                );
            }
        });
        ui.end_row();
    });
}

fn trading_state_line(ui: &mut egui::Ui, view: &TradingView) {
    let (text, color) = match &view.status {
        None => ("Trading is not running in this session".to_string(), theme::MUTED),
        Some(TradingStatus::Starting) => ("Trading engine starting".to_string(), theme::WARNING),
        Some(TradingStatus::WaitingForMarket) => ("Trading engine waiting for market data".to_string(), theme::WARNING),
        Some(TradingStatus::Ready) => ("Paper trading".to_string(), theme::PROFIT),
        Some(TradingStatus::MarketClosed) => ("Market feed ended: orders stay as they are".to_string(), theme::WARNING),
        Some(TradingStatus::Stopped(why)) => (format!("Trading stopped: {why}"), theme::LOSS),
    };
    labeled(ui, RichText::new(&text).small().color(color), format!("Trading status {text}"));
}

/// The spread legs: per leg its month (picked among the listed contracts or typed), the
/// leg's side and size for the ticket's side and quantity, its quote and, when the legs
/// are priced, its limit price; then the spread's price from the quotes' mids.
fn spread_legs(
    ui: &mut egui::Ui,
    store: &ViewModel,
    state: &mut TradeState,
    cache: &mut TradeCache,
    request: &Result<TicketRequest, TicketError>,
    field_ids: &mut Vec<egui::Id>,
) {
    let date = reference_date(store);
    if state.mode == TicketMode::Crack {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Product").color(theme::MUTED));
            for m in [Market::Rbob, Market::HeatingOil] {
                let sel = state.spread.crack_product == m;
                let r = ui.selectable_label(sel, RichText::new(m.code()).monospace());
                r.widget_info(|| {
                    egui::WidgetInfo::selected(egui::Role::Button, true, sel, format!("Crack product {}", m.code()))
                });
                if r.clicked() {
                    state.spread.crack_product = m;
                }
            }
            ui.label(RichText::new("vs CL").color(theme::MUTED));
        });
    }
    let spread = match request {
        Ok(TicketRequest::Spread(s)) => Some(s),
        _ => None,
    };
    let legs = spread.map(SpreadRequest::leg_orders).unwrap_or_default();
    for m in state.mode.leg_markets(state.spread.crack_product) {
        let code = m.code();
        let current =
            date.and_then(|d| parse_order_symbol(&state.spread.legs[m.index()].contract, d).ok().map(|s| s.resolve(d)));
        ui.horizontal(|ui| {
            let months: Vec<ContractId> = store
                .board()
                .filter_map(|(id, _)| match id {
                    SeriesId::Contract(c) if c.market == m => Some(c),
                    _ => None,
                })
                .filter(|c| date.is_none_or(|d| c.last_trade_date() >= d))
                .collect();
            let label = current.map_or("—".to_string(), |c| c.to_string());
            let combo = egui::ComboBox::from_id_salt(("spread_month", code))
                .width(70.0)
                .selected_text(RichText::new(&label).monospace())
                .show_ui(ui, |ui| {
                    for c in &months {
                        if ui.selectable_label(Some(*c) == current, RichText::new(c.to_string()).monospace()).clicked()
                        {
                            state.spread.legs[m.index()].contract = c.to_string();
                        }
                    }
                });
            combo.response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, format!("Spread month {code} {label}"))
            });
            field(ui, &format!("{code} leg"), &mut state.spread.legs[m.index()].contract, 60.0, field_ids);
            if let Some((c, side, qty)) = legs.iter().find(|(c, _, _)| c.market == m) {
                let text = format!("{} {qty} {c}", side.as_str());
                let color = if *side == Side::Buy { theme::PROFIT } else { theme::LOSS };
                labeled(ui, RichText::new(&text).monospace().color(color), format!("Leg {text}"));
            }
        });
        ui.horizontal(|ui| {
            ui.add_space(12.0);
            if let Some(c) = current
                && let Some(q) = store.quote(SeriesId::Contract(c))
            {
                let (bid, ask) = (format::price(m, q.bid), format::price(m, q.ask));
                labeled(
                    ui,
                    RichText::new(format!("{bid} / {ask}")).monospace().small().color(theme::MUTED),
                    format!("Leg {c} bid {bid} ask {ask}"),
                );
            }
            if state.spread.limit {
                field(ui, &format!("{code} limit"), &mut state.spread.legs[m.index()].limit_price, 80.0, field_ids);
            }
        });
    }
    if let Some(s) = spread
        && let Some(inst) = cache.instruments()
    {
        let mid = |c: ContractId| {
            store.quote(SeriesId::Contract(c)).and_then(|q| match (q.bid, q.ask) {
                (Some(b), Some(a)) => Some(0.5 * (a + b)),
                _ => q.last,
            })
        };
        let text = s.price(inst, mid).map_or("—".to_string(), |p| format!("{p:.2}"));
        labeled(
            ui,
            RichText::new(format!("{} price {text} $/bbl (mid)", s.name)).monospace().strong(),
            format!("Spread price {text}"),
        );
        if let Some(limits) = s.price(inst, |c| s.legs.iter().find(|l| l.contract == c).and_then(|l| l.limit_price)) {
            let text = format!("{limits:.2}");
            labeled(
                ui,
                RichText::new(format!("at the leg limits {text} $/bbl")).monospace(),
                format!("Spread limit price {text}"),
            );
        }
    }
}

/// Asks the worker for a preview of `req` after the debounce (and again as the book moves).
fn request_preview(
    ui: &egui::Ui,
    view: &TradingView,
    cache: &mut TradeCache,
    req: &TicketRequest,
    out: &mut Vec<TradingCommand>,
    wall_now: Timestamp,
) {
    if cache.current.as_ref() != Some(req) {
        cache.current = Some(req.clone());
        cache.changed_wall = wall_now;
    }
    let generation = view.snapshot.as_ref().map_or(0, |s| s.generation);
    let quiet_ms = (wall_now.0 - cache.changed_wall.0) / 1_000_000;
    let stale_ms = (wall_now.0 - cache.preview_wall.0) / 1_000_000;
    let changed = cache.previewed.as_ref() != Some(req);
    let book_moved = generation != cache.preview_generation && stale_ms >= PREVIEW_REFRESH_MS;
    if view.ready() && (changed || book_moved) {
        if quiet_ms >= PREVIEW_DEBOUNCE_MS {
            let id = cache.request_id();
            cache.preview_id = id;
            cache.previewed = Some(req.clone());
            cache.preview_wall = wall_now;
            cache.preview_generation = generation;
            out.push(match req {
                TicketRequest::Order(r) => TradingCommand::Preview { request_id: id, request: r.clone() },
                TicketRequest::Spread(s) => TradingCommand::PreviewSpread { request_id: id, request: s.clone() },
            });
        } else {
            let wait = (PREVIEW_DEBOUNCE_MS - quiet_ms).max(1) as u64;
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(wait));
        }
    } else if view.ready() && generation != cache.preview_generation {
        let wait = (PREVIEW_REFRESH_MS - stale_ms).max(1) as u64;
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(wait));
    }
}

fn preview(
    ui: &mut egui::Ui,
    store: &ViewModel,
    cache: &mut TradeCache,
    req: &TicketRequest,
    out: &mut Vec<TradingCommand>,
    wall_now: Timestamp,
) {
    let view = store.trading();
    request_preview(ui, view, cache, req, out, wall_now);
    header(ui, "PRE-TRADE CHECK");
    let current = cache.previewed.as_ref() == Some(req);
    let waiting = || RichText::new(if view.ready() { "checking…" } else { "—" }).color(theme::MUTED);
    match req {
        TicketRequest::Order(r) => {
            let Some((_, result)) = view.preview.as_ref().filter(|(id, _)| *id == cache.preview_id && current) else {
                ui.label(waiting());
                return;
            };
            match result {
                Err(e) => {
                    labeled(ui, RichText::new(e.to_string()).color(theme::LOSS), format!("Ticket error {e}"));
                }
                Ok(p) => {
                    pre_trade_verdict(ui, &p.pre_trade);
                    if let Some(rp) = p.reference_price {
                        let s = format::price(r.contract.market, Some(rp));
                        labeled(
                            ui,
                            RichText::new(format!("reference {s}")).monospace().small(),
                            format!("Reference price {s}"),
                        );
                    }
                    post_trade(ui, &p.pre_trade, p.margin_now_usd);
                }
            }
        }
        TicketRequest::Spread(_) => {
            let answer = view.spread_preview.as_ref().filter(|(id, _)| *id == cache.preview_id && current);
            let Some((_, result)) = answer else {
                ui.label(waiting());
                return;
            };
            match result {
                Err(e) => {
                    labeled(ui, RichText::new(e.to_string()).color(theme::LOSS), format!("Ticket error {e}"));
                }
                Ok(p) => {
                    pre_trade_verdict(ui, &p.pre_trade);
                    for l in &p.legs {
                        let word = decision_word(l.pre_trade.decision).0;
                        let px = format::price(l.contract.market, l.reference_price);
                        let text = format!("{} {} {} {word} (ref {px})", l.side.as_str(), l.qty, l.contract);
                        labeled(ui, RichText::new(&text).monospace().small(), format!("Pre-trade leg {text}"));
                    }
                    if let Some(sp) = p.spread_price {
                        let s = format!("{sp:.2}");
                        labeled(
                            ui,
                            RichText::new(format!("spread reference {s} $/bbl")).monospace().small(),
                            format!("Spread reference price {s}"),
                        );
                    }
                    post_trade(ui, &p.pre_trade, p.margin_now_usd);
                }
            }
        }
    }
}

fn decision_word(d: PreTradeDecision) -> (&'static str, egui::Color32) {
    match d {
        PreTradeDecision::Pass => ("PASS", theme::PROFIT),
        PreTradeDecision::Warn => ("WARN", theme::WARNING),
        PreTradeDecision::Reject => ("REJECT", theme::LOSS),
    }
}

/// The decision and its reasons.
fn pre_trade_verdict(ui: &mut egui::Ui, p: &PreTradeResult) {
    let (word, color) = decision_word(p.decision);
    labeled(ui, RichText::new(word).strong().size(16.0).color(color), format!("Pre-trade {word}"));
    for reason in &p.reasons {
        labeled(ui, RichText::new(format!("- {reason}")).color(color), format!("Pre-trade reason {reason}"));
    }
}

/// Post-trade VaR, margin and the limits' utilisation.
fn post_trade(ui: &mut egui::Ui, p: &PreTradeResult, margin_now_usd: f64) {
    let Some(post) = &p.post_trade else { return };
    let var = post.var_usd.map_or("n/a (limits-only check)".to_string(), usd);
    labeled(ui, RichText::new(format!("post-trade VaR {var}")).monospace(), format!("Post-trade VaR {var}"));
    let margin = usd(post.margin_usd);
    let impact = usd(post.margin_usd - margin_now_usd);
    labeled(
        ui,
        RichText::new(format!("margin {margin} (impact {impact})")).monospace(),
        format!("Margin after {margin} impact {impact}"),
    );
    egui::Grid::new("utilisations").spacing(vec2(8.0, 2.0)).show(ui, |ui| {
        for (name, u) in &post.utilisations {
            ui.label(RichText::new(name).small().color(theme::MUTED));
            let c = if *u >= 1.0 {
                theme::LOSS
            } else if *u >= 0.8 {
                theme::WARNING
            } else {
                theme::ACCENT
            };
            theme::bar(ui, *u, c, 140.0, None);
            let pct = format!("{:.1}%", u * 100.0);
            labeled(ui, RichText::new(&pct).monospace().small(), format!("Utilisation {name} {pct}"));
            ui.end_row();
        }
    });
}

fn submit_result(ui: &mut egui::Ui, view: &TradingView, cache: &TradeCache) {
    let Some((id, is_spread)) = cache.submit_id else { return };
    header(ui, "LAST ORDER");
    if is_spread {
        spread_result(ui, view, cache, id);
        return;
    }
    match view.submitted.as_ref().filter(|(rid, _)| *rid == id) {
        None => {
            ui.label(RichText::new("sending…").color(theme::MUTED));
        }
        Some((_, Err(e))) => {
            labeled(
                ui,
                RichText::new(format!("Not entered: {e}")).color(theme::LOSS),
                format!("Order not entered {e}"),
            );
        }
        Some((_, Ok(o))) => {
            if o.status == crude_model::OrderStatus::Rejected {
                let why = o.pre_trade.reasons.join("; ");
                labeled(
                    ui,
                    RichText::new(format!("Order #{} rejected: {why}", o.order_id)).color(theme::LOSS),
                    format!("Order rejected {why}"),
                );
            } else {
                // The order's live status, when the snapshot still lists it.
                let status = view
                    .working()
                    .iter()
                    .find(|w| w.order_id == o.order_id)
                    .map_or_else(|| "done (see activity)".to_string(), |w| w.status.as_str().to_string());
                labeled(
                    ui,
                    RichText::new(format!("Order #{} {} {}", o.order_id, o.client_order_id, status)).color(theme::TEXT),
                    format!("Order entered {} {}", o.order_id, o.client_order_id),
                );
            }
        }
    }
}

fn spread_result(ui: &mut egui::Ui, view: &TradingView, cache: &TradeCache, id: u64) {
    match view.spread_submitted.as_ref().filter(|(rid, _)| *rid == id) {
        None => {
            ui.label(RichText::new("sending…").color(theme::MUTED));
        }
        Some((_, Err(e))) => {
            labeled(
                ui,
                RichText::new(format!("Spread not entered: {e}")).color(theme::LOSS),
                format!("Spread not entered {e}"),
            );
        }
        Some((_, Ok(o))) => {
            let legs = cache.submitted_spread.as_ref().map(SpreadRequest::leg_orders).unwrap_or_default();
            if o.legs.iter().all(|l| l.status == crude_model::OrderStatus::Rejected) {
                // Each leg's own reasons (legs refused only because another was say so).
                let mut why: Vec<String> = Vec::new();
                for (i, l) in o.legs.iter().enumerate() {
                    let contract = legs.get(i).map_or_else(|| format!("leg {i}"), |(c, _, _)| c.to_string());
                    for r in l.pre_trade.reasons.iter().filter(|r| !r.starts_with("linked leg rejected")) {
                        why.push(format!("{contract}: {r}"));
                    }
                }
                let why = why.join("; ");
                labeled(
                    ui,
                    RichText::new(format!("Spread #{} rejected: {why}", o.spread_id)).color(theme::LOSS),
                    format!("Spread rejected {why}"),
                );
            } else {
                let ids: Vec<String> = o.legs.iter().map(|l| format!("#{}", l.order_id)).collect();
                labeled(
                    ui,
                    RichText::new(format!("Spread #{} entered: legs {}", o.spread_id, ids.join(" ")))
                        .color(theme::TEXT),
                    format!("Spread entered {} legs {}", o.spread_id, ids.join(" ")),
                );
                for (i, l) in o.legs.iter().enumerate() {
                    let status = view
                        .working()
                        .iter()
                        .find(|w| w.order_id == l.order_id)
                        .map_or_else(|| "done (see activity)".to_string(), |w| w.status.as_str().to_string());
                    let contract = legs.get(i).map_or_else(String::new, |(c, _, _)| c.to_string());
                    ui.label(
                        RichText::new(format!("  leg #{} {contract} {status}", l.order_id)).small().color(theme::MUTED),
                    );
                }
            }
        }
    }
}

fn activity(ui: &mut egui::Ui, view: &TradingView) {
    header(ui, "ACTIVITY");
    if view.activity.is_empty() {
        ui.label(RichText::new("No trading activity yet").color(theme::MUTED));
        return;
    }
    let n = view.activity.len();
    let row_h = 18.0;
    egui::ScrollArea::vertical().id_salt("activity_scroll").auto_shrink([false, false]).show_rows(
        ui,
        row_h,
        n,
        |ui, range| {
            for i in range {
                // Newest first.
                let Some(a) = view.activity.get(n - 1 - i) else { continue };
                let color = match a.level {
                    ActivityLevel::Info => theme::TEXT,
                    ActivityLevel::Fill => theme::PROFIT,
                    ActivityLevel::Warning => theme::WARNING,
                    ActivityLevel::Error => theme::LOSS,
                };
                ui.horizontal(|ui| {
                    ui.label(RichText::new(time_of_day(a.ts)).monospace().small().color(theme::MUTED));
                    labeled(
                        ui,
                        RichText::new(&a.text).monospace().small().color(color),
                        format!("Activity {}", a.text),
                    );
                });
            }
        },
    );
}

/// Exchange time of day, `HH:MM:SS`.
fn time_of_day(ts: Timestamp) -> String {
    let s = format::exchange_time(ts);
    s.get(11..19).unwrap_or(&s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn date() -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 11, 18)
    }

    #[test]
    fn ticket_fields_parse_and_name_the_field() {
        let mut s = TradeState {
            contract: "CLF7".into(),
            qty: "5".into(),
            limit_price: "71.25".into(),
            ..TradeState::default()
        };
        let r = ticket_request(&s, date()).unwrap();
        assert_eq!(r.qty, 5);
        assert_eq!(r.limit_price, Some(71.25));
        assert_eq!(r.contract.to_string(), "CLF7");
        s.qty = "1.5".into();
        assert_eq!(ticket_request(&s, date()).unwrap_err().field.as_deref(), Some("qty"));
        s.qty = "2".into();
        s.limit_price = "NaN".into();
        assert_eq!(ticket_request(&s, date()).unwrap_err().field.as_deref(), Some("limit_price"));
        s.limit_price = "-37.63".into();
        assert_eq!(ticket_request(&s, date()).unwrap().limit_price, Some(-37.63));
        s.contract = "XXF7".into();
        assert_eq!(ticket_request(&s, date()).unwrap_err().field.as_deref(), Some("contract"));
        s.contract = "CL1".into();
        s.order_type = OrderType::Market;
        let r = ticket_request(&s, date()).unwrap();
        assert_eq!(r.limit_price, None);
        assert_eq!(r.contract, Market::Wti.front_contract(date().unwrap()));
        assert!(ticket_request(&s, None).is_err());
    }

    #[test]
    fn spread_tickets_build_the_spread_and_name_the_leg() {
        let d = date().unwrap();
        let mut s = TradeState { mode: TicketMode::WtiBrent, qty: "3".into(), ..TradeState::default() };
        s.spread.legs[Market::Wti.index()].contract = "CLG7".into();
        s.spread.legs[Market::Brent.index()].contract = "BZ1".into();
        let r = spread_request(&s, date()).unwrap();
        assert_eq!(r.name, "WTI-Brent");
        assert_eq!(
            r.leg_orders()[0],
            (ContractId::new(Market::Wti, crude_model::ContractMonth::new(2027, 2).unwrap()), Side::Buy, 3)
        );
        assert_eq!(r.legs[1].contract, Market::Brent.front_contract(d));
        assert!(r.legs.iter().all(|l| l.limit_price.is_none()));
        assert_eq!((r.strategy.as_str(), r.tif), ("manual", TimeInForce::Day));
        assert!(describe_spread(&r).starts_with("BUY 3 WTI-Brent CLG7/BZ"), "{}", describe_spread(&r));
        assert!(matches!(current_request(&s, date()), Ok(TicketRequest::Spread(_))));
        // Per-leg limits: every leg needs a price; negative prices are legal.
        s.spread.limit = true;
        s.spread.legs[Market::Wti.index()].limit_price = "-37.63".into();
        let e = spread_request(&s, date()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("BZ leg limit_price"), "{e}");
        s.spread.legs[Market::Brent.index()].limit_price = "abc".into();
        assert_eq!(spread_request(&s, date()).unwrap_err().field.as_deref(), Some("BZ leg limit_price"));
        s.spread.legs[Market::Brent.index()].limit_price = "19.33".into();
        let r = spread_request(&s, date()).unwrap();
        assert_eq!(r.legs.iter().map(|l| l.limit_price).collect::<Vec<_>>(), vec![Some(-37.63), Some(19.33)]);
        assert!(describe_spread(&r).contains("LIMIT -37.63/19.33"), "{}", describe_spread(&r));
        // A leg of the wrong market, an empty leg, a bad quantity.
        s.spread.legs[Market::Brent.index()].contract = "CLF7".into();
        let e = spread_request(&s, date()).unwrap_err();
        assert_eq!((e.field.as_deref(), e.message.as_str()), (Some("BZ leg"), "CLF7 is not a BZ contract"));
        s.spread.legs[Market::Brent.index()].contract.clear();
        assert_eq!(spread_request(&s, date()).unwrap_err().field.as_deref(), Some("BZ leg"));
        s.spread.legs[Market::Brent.index()].contract = "BZH7".into();
        s.qty = "0".into();
        assert_eq!(spread_request(&s, date()).unwrap_err().field.as_deref(), Some("qty"));
        assert!(spread_request(&s, None).is_err());
        // The cracks: HO against CL, and the 3:2:1 with its legs and sizes.
        let mut k = TradeState { mode: TicketMode::Crack, side: Side::Sell, ..TradeState::default() };
        k.spread.crack_product = Market::HeatingOil;
        k.spread.legs[Market::HeatingOil.index()].contract = "HO1".into();
        k.spread.legs[Market::Wti.index()].contract = "CL1".into();
        let r = spread_request(&k, date()).unwrap();
        assert_eq!(r.name, "HO crack");
        assert_eq!(
            r.leg_orders().iter().map(|(c, s, q)| (c.market, *s, *q)).collect::<Vec<_>>(),
            vec![(Market::HeatingOil, Side::Sell, 1), (Market::Wti, Side::Buy, 1)]
        );
        k.mode = TicketMode::Crack321;
        k.side = Side::Buy;
        k.qty = "2".into();
        k.spread.legs[Market::Rbob.index()].contract = "RB1".into();
        let r = spread_request(&k, date()).unwrap();
        assert_eq!(r.name, "3:2:1 crack");
        assert_eq!(TicketRequest::Spread(r.clone()).largest_qty(), 6);
        assert_eq!(
            r.leg_orders().iter().map(|(c, s, q)| (c.market, *s, *q)).collect::<Vec<_>>(),
            vec![(Market::Rbob, Side::Buy, 4), (Market::HeatingOil, Side::Buy, 2), (Market::Wti, Side::Sell, 6)]
        );
    }

    #[test]
    fn prefill_loads_a_limit_at_the_clicked_price() {
        let mut s = TradeState::default();
        let c = Market::Rbob.front_contract(date().unwrap());
        s.apply_prefill(&OrderTicketPrefill { contract: c, side: Some(Side::Sell), price: Some(2.1) });
        assert_eq!(s.side, Side::Sell);
        assert_eq!(s.order_type, OrderType::Limit);
        assert_eq!(s.limit_price, "2.1000");
        assert_eq!(s.contract, c.to_string());
        assert!(describe(&ticket_request(&s, date()).unwrap()).starts_with("SELL 1 RB"));
    }
}
