"""Request topics in Spanish, German and Portuguese.

Every sentence below is hand-written for these tests (none comes from a data set): what
customers of a European brand write to its care accounts, in their own words, with
inflections, vosotros / você forms and German compounds; then texts that must raise no
topic (praise, chit-chat, other senses of the same words). Each sentence must raise its
topic; other topics may come too ("la app no abre y no puedo pagar" is both).
"""

from __future__ import annotations

import pytest

from bot.analysis.topics import detect_topics, topic_names

ES = {
    "billing": [
        "Me habéis cobrado dos veces el mismo pedido, quiero que me devolváis el dinero",
        "Llevo un mes esperando el reembolso y nadie me contesta",
        "¿Por qué aparece un cargo duplicado en mi tarjeta?",
        "El recibo de este mes viene con 20 euros de más, ¿qué es ese cobro?",
        "Me cobraron la suscripción después de cancelarla",
        "Pagué con tarjeta de crédito y el pago sigue pendiente",
    ],
    "delivery": [
        "Mi pedido no ha llegado y ya han pasado dos semanas",
        "El repartidor dice que entregó el paquete pero aquí no hay nada",
        "¿Me podéis dar el número de seguimiento del envío?",
        "Sigue sin llegar, el envío lleva cinco días parado en Correos",
        "Me llegó otro producto, talla equivocada además",
        "No he recibido nada todavía, ¿dónde está mi paquete?",
        "Llevo tres semanas esperando mi compra",
    ],
    "account": [
        "Me habéis bloqueado la cuenta sin explicación",
        "No puedo iniciar sesión, dice que la contraseña es incorrecta",
        "Creo que me han hackeado la cuenta, han cambiado el correo",
        "No me llega el código de verificación para entrar",
        "¿Cómo recupero mi cuenta? Olvidé la contraseña",
        "Mi cuenta aparece como suspendida desde ayer",
        "Me han suspendido la cuenta sin motivo",
    ],
    "outage": [
        "La app no funciona desde la actualización",
        "¿Está caída la web? No carga nada",
        "Se me cuelga la aplicación cada vez que intento pagar",
        "Llevamos toda la mañana sin internet en el barrio",
        "Otra vez sin servicio, ¿tenéis una avería?",
        "Me sale pantalla negra al abrir la app, arreglad esto",
    ],
    "quality": [
        "El móvil llegó roto, con la pantalla rajada",
        "La chaqueta es de pésima calidad, se ha roto a la semana",
        "El aspirador vino estropeado y no enciende",
        "La leche estaba caducada y olía fatal",
        "Pedí pollo y estaba crudo por dentro, en mal estado",
        "El pantalón vino con un agujero",
        "Las zapatillas se rompieron al segundo día, malísima calidad",
    ],
    "churn": [
        "Quiero darme de baja ya mismo",
        "Me cambio a otra compañía, estoy harto",
        "Nunca más os compro nada",
        "He pedido la portabilidad, me voy a la competencia",
        "¿Cómo elimino mi cuenta? No pienso volver",
        "Me doy de baja este mes, ya está bien",
    ],
}

DE = {
    "billing": [
        "Mir wurde der Betrag doppelt abgebucht!",
        "Wann bekomme ich meine Rückerstattung? Warte seit drei Wochen",
        "Die Rechnung ist falsch, ihr habt mir 30 Euro zu viel berechnet und abgerechnet",
        "Ich habe schon bezahlt und trotzdem eine Mahnung bekommen",
        "Warum wurde die Lastschrift zweimal eingezogen?",
        "Die Zahlung mit Kreditkarte geht nicht durch",
        "Warum wurde mir das doppelt berechnet?",
    ],
    "delivery": [
        "Meine Bestellung ist immer noch nicht angekommen",
        "Laut Sendungsverfolgung wurde das Paket zugestellt, ist aber nicht da",
        "Die Lieferung verzögert sich schon wieder, wo bleibt mein Paket?",
        "Habt ihr meine Bestellnummer? Ich habe nie eine Lieferung erhalten",
        "Der Bote hat das Päckchen einfach vor die Tür gelegt",
        "Falscher Artikel geliefert, ich hatte etwas anderes bestellt",
    ],
    "account": [
        "Mein Konto wurde gesperrt, ohne Grund",
        "Ich kann mich nicht anmelden, Passwort wird nicht akzeptiert",
        "Mein Kundenkonto wurde gehackt!",
        "Der Bestätigungscode kommt nie an",
        "Passwort zurücksetzen funktioniert nicht, Link abgelaufen",
        "Seit dem Update bin ich ständig ausgeloggt",
        "Ich komme nicht in meinen Account",
    ],
    "outage": [
        "Die App stürzt ständig ab",
        "Bei mir funktioniert nichts mehr, funktioniert nicht seit heute früh",
        "Gibt es eine Störung? Kein Internet seit Stunden",
        "Die Seite ist nicht erreichbar, nur eine Fehlermeldung",
        "Totalausfall bei euch seit heute Morgen",
        "App lässt sich nicht öffnen, schwarzer Bildschirm",
        "Seit dem Update geht gar nichts mehr",
    ],
    "quality": [
        "Der Fernseher ist defekt angekommen",
        "Die Jacke hat nach zwei Wochen schon Löcher, miese Qualität",
        "Das Glas war zerbrochen, alles beschädigt",
        "Das Brot war verschimmelt und die Milch verdorben",
        "Die Flasche ist undicht, alles ausgelaufen",
        "Der Akku lädt nicht, Gerät ist kaputt angekommen",
        "Das Produkt ist Schrott, nach einer Woche hinüber",
    ],
    "churn": [
        "Ich will meinen Vertrag kündigen",
        "Hiermit kündige ich mein Abo zum Monatsende",
        "Nie wieder bestelle ich bei euch",
        "Ich wechsle zur Konkurrenz, reicht mir jetzt",
        "Die Kündigung habe ich gestern geschickt, bitte bestätigen",
        "Bitte mein Konto löschen, ich bin kein Kunde mehr",
    ],
}

PT = {
    "billing": [
        "Vocês me cobraram duas vezes no cartão",
        "Cadê o meu reembolso? Já faz um mês",
        "Pedi o estorno da compra e até agora nada",
        "A fatura deste mês veio com uma cobrança indevida",
        "Paguei o boleto e o pagamento não foi reconhecido",
        "Fui cobrado pela assinatura mesmo depois de cancelar",
        "A minha conta de luz veio o dobro este mês",  # a bill: billing, not account
    ],
    "delivery": [
        "Meu pedido ainda não chegou e o prazo já venceu",
        "A encomenda está parada nos Correios há uma semana",
        "O código de rastreio não funciona, não consigo rastrear a entrega",
        "Consta como entregue mas eu não recebi nada",
        "O entregador nem tocou a campainha, a encomenda voltou",
        "Veio o produto errado, pedi outra cor",
    ],
    "account": [
        "Minha conta foi bloqueada sem motivo",
        "Esqueci a senha e o email de recuperação não chega",
        "Invadiram minha conta e trocaram o email",
        "Não recebo o código de verificação por SMS",
        "Não consigo entrar na minha conta desde ontem",
        "A minha conta está suspensa, o que aconteceu?",
        "Não consigo logar desde a atualização",
    ],
    "outage": [
        "A app não abre, fica na tela branca",
        "O site está fora do ar de novo?",
        "O aplicativo está travando toda hora",
        "Estamos sem internet desde manhã",
        "Parou de funcionar depois da atualização",
        "Dá erro ao finalizar a compra, mensagem de erro toda hora",
    ],
    "quality": [
        "O produto veio com defeito",
        "A tela chegou quebrada, péssima qualidade",
        "A comida estava estragada, com cheiro horrível",
        "O iogurte estava vencido e mofado",
        "A camisa rasgou na primeira lavagem, tecido de baixa qualidade",
        "A caixa veio toda danificada e o aparelho com defeito",
    ],
    "churn": [
        "Quero rescindir o contrato, chega",
        "Vou trocar de operadora, cansei",
        "Nunca mais compro nada de vocês",
        "Já pedi a portabilidade, vou para a concorrência",
        "Como faço para excluir minha conta? Não volto mais",
        "Acabaram de perder um cliente, vou encerrar o contrato",
    ],
}

CASES = [
    (lang, topic, text)
    for lang, by_topic in (("es", ES), ("de", DE), ("pt", PT))
    for topic, texts in by_topic.items()
    for text in texts
]

# Praise, chit-chat and other senses of the words (hand-written too): no topic at all.
NEGATIVES = [
    # Spanish
    "¡Muchas gracias por la atención, sois geniales!",
    "He pedido ayuda a mi hermana para montar el mueble y quedó perfecto",  # "pedido"
    "Ten en cuenta que mañana es festivo",  # "cuenta"
    "Lo arreglé por mi cuenta, gracias de todos modos",  # "mi cuenta": on my own
    "Estoy de baja por maternidad, ¡qué ganas de volver!",  # "baja"
    "El cargo de director lo ocupa ahora Ana",  # "cargo"
    "¿A qué hora abrís la tienda el sábado?",
    "Me encanta el nuevo diseño de la tienda",
    "Mañana no va a llover, nos vemos en el parque",  # "no va"
    "Me pasó a mí también lo de perder las llaves, qué risa",  # "me paso a"
    "¡Sin problema, gracias por todo!",  # "problema" alone
    # German
    "Vielen Dank, super Service und sehr freundliches Team!",
    "Die Rechnung geht auf: drei mal drei ist neun",  # "Rechnung": calculation
    "Das hängt davon ab, wie das Wetter wird",  # "hängt"
    "Die Sendung gestern Abend im Fernsehen war toll",  # "Sendung": TV show
    "Wann öffnet eure Filiale am Sonntag?",
    "Das Spiel geht gleich los, ich freue mich",
    "Ich habe ein Konto bei einer anderen Bank und bin zufrieden",  # "Konto" alone
    # Portuguese
    "Adorei o atendimento, vocês são demais!",
    "Ela caiu na risada quando viu o presente",  # "caiu"
    "Pode deixar por minha conta o jantar",  # "conta"
    "Fiz tudo por minha conta e deu certo",  # "minha conta": on my own
    "O pedido de casamento foi lindo",  # "pedido"
    "Que horas abre a loja no domingo?",
    "Obrigado pela ajuda de ontem, tudo certo",
    "Meu gato adora ficar na janela",
]


def names(text: str) -> tuple[str, ...]:
    return topic_names(detect_topics(text))


@pytest.mark.parametrize(("lang", "topic", "text"), CASES)
def test_each_topic_in_spanish_german_and_portuguese(lang: str, topic: str, text: str) -> None:
    assert topic in names(text), (lang, text)


def test_at_least_five_sentences_per_topic_and_language() -> None:
    for by_topic in (ES, DE, PT):
        assert {topic: len(texts) >= 5 for topic, texts in by_topic.items()} == dict.fromkeys(
            ("billing", "delivery", "account", "outage", "quality", "churn"), True
        )


@pytest.mark.parametrize("text", NEGATIVES)
def test_no_topic_in_praise_chit_chat_or_other_senses(text: str) -> None:
    assert names(text) == ()


def test_the_sentences_raise_few_other_topics() -> None:
    """Precision over the sentences above: a topic other than the sentence's own is rare
    (some are right: "la app no abre al pagar" is also billing)."""
    extra = sum(len(set(names(text)) - {topic}) for _lang, topic, text in CASES)
    assert extra <= len(CASES) // 5, extra


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("¿Está caído?", "outage"),
        ("Konto gesperrt!", "account"),
        ("sem internet", "outage"),
        ("reembolso ya", "billing"),
        ("Mahnung??", "billing"),
        ("senha bloqueada", "account"),
    ],
)
def test_short_requests_get_their_topic_whatever_language_they_look_like(
    text: str, topic: str
) -> None:
    """The rules of every language apply to every text: too short to tell their
    language, several of these are detected as Dutch, German, English or Indonesian,
    and would lose their topic if only their detected language's rules applied."""
    assert names(text) == (topic,)


def test_an_idiom_raises_its_own_topic_only() -> None:
    """ "minha conta de luz" is an electricity bill: billing, not the account topic
    "minha conta" raises elsewhere; "por minha conta" (on my own) raises nothing."""
    assert names("A minha conta de luz veio o dobro este mês") == ("billing",)
    assert names("Minha conta foi bloqueada") == ("account",)
    assert names("Fiz tudo por minha conta e deu certo") == ()
