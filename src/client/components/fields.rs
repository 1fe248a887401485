//! Form fields with their label, hint and error message, tied to `FieldErrors` by field id.

use leptos::prelude::*;

use crate::domain::{
    FieldErrors, ModelDraft,
};
use crate::i18n::{t, tr};

/// The field's problem, in the interface's language (the domain's rules say it in Vietnamese).
pub fn error_of(errors: RwSignal<FieldErrors>, id: &str) -> Option<String> {
    errors.with(|e| e.get(id).map(tr))
}

#[component]
pub fn FieldMessage(#[prop(into)] id: String, errors: RwSignal<FieldErrors>) -> impl IntoView {
    let error_id = format!("{id}-error");
    move || error_of(errors, &id).map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })
}

/// `label` and `hint` are Vietnamese texts of the catalogue, shown in the interface's language.
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    draft: RwSignal<ModelDraft>,
    errors: RwSignal<FieldErrors>,
    get: fn(&ModelDraft) -> String,
    set: fn(&mut ModelDraft, String),
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = false)] multiline: bool,
    #[prop(default = false)] required: bool,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let invalid = move || errors.with(|e| e.get(id).is_some());
    let value = move || draft.with(get);
    let on_input = move |ev: leptos::ev::Event| draft.update(|d| set(d, event_target_value(&ev)));
    let described = format!("{id}-error");
    let control = if multiline {
        view! {
            <textarea id=id name=id rows="4" prop:value=value on:input=on_input
                aria-invalid=move || invalid().to_string() aria-describedby=described></textarea>
        }
        .into_any()
    } else {
        let inputmode = if kind == "number" { "numeric" } else { "text" };
        view! {
            <input id=id name=id type=kind inputmode=inputmode prop:value=value on:input=on_input
                aria-invalid=move || invalid().to_string() aria-describedby=described/>
        }
        .into_any()
    };
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id>{t(label)}{required.then(|| view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
            {(!hint.is_empty()).then(|| view! { <small class="hint">{t(hint)}</small> })}
            {control}
            <FieldMessage id=id errors/>
        </div>
    }
}

/// `label` as in [`TextField`]; the options' texts are shown as given.
#[component]
pub fn SelectField(
    id: &'static str,
    label: &'static str,
    draft: RwSignal<ModelDraft>,
    errors: RwSignal<FieldErrors>,
    get: fn(&ModelDraft) -> String,
    set: fn(&mut ModelDraft, String),
    options: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let invalid = move || errors.with(|e| e.get(id).is_some());
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id>{t(label)}</label>
            <select id=id name=id aria-invalid=move || invalid().to_string()
                on:change=move |ev| draft.update(|d| set(d, event_target_value(&ev)))>
                {move || {
                    let current = draft.with(get);
                    let mut opts = options.get();
                    if !current.is_empty() && !opts.iter().any(|(c, _)| *c == current) {
                        // A value from another device's configuration: keep it selectable.
                        opts.push((current.clone(), current.clone()));
                    }
                    opts.into_iter().map(|(code, text)| {
                        let selected = code == current;
                        view! { <option value=code selected=selected>{text}</option> }
                    }).collect_view()
                }}
            </select>
            <FieldMessage id=id errors/>
        </div>
    }
}
