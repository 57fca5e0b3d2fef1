"""What a mention is about: question, complaint, praise, purchase intent, risk, spam.

Rules over English and French, matched on lowercased accent-free words (so "déçu",
"decu" and "DÉÇU" all match). Every flag keeps the terms that raised it, so a card can
say *why*. Risk has four kinds (legal, safety, data breach, crisis), each its own flag
(``risk:legal``...); their rules also hold Spanish, German and Portuguese terms (these
languages have no other intent rules), written as phrases where a single word is
ambiguous ("una demanda contra", not "demanda", which is also economic demand; "vor
Gericht", not "Gericht", also a dish; "Klage" but not "Anklage", a prosecution of
someone else; no "Brand" or "Gift", English words; "vou processar" but not
"processar o pagamento"). A praise term right after a negation ("not great", "pas top")
counts as a complaint instead.

Rules are phrase rules (syntax in ``bot.analysis.phrases``), compiled once into a
word-indexed phrase table, which is several times faster than regular-expression
alternations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import compress
from typing import Literal

from bot.analysis.frozen import fast_init
from bot.analysis.phrases import Phrase, PhraseTable, match_rest, starts_of
from bot.analysis.text import (
    ORDER_ID_RE,
    URL_RE,
    VERSION_RE,
    fold_accents,
    has_question_mark,
    strip_links,
)

Intent = Literal["risk", "spam", "complaint", "purchase_intent", "question", "praise", "other"]
RISK_KINDS = ("legal", "safety", "data_breach", "crisis")

_NEGATORS = "not/no/never/don't/dont/doesn't/doesnt/isn't/isnt/wasn't/ain't/pas/jamais/peu"

RULES: dict[str, str] = {
    "question": """
        how do/can/does/to/long/much/many/come | what is/are/do/does/should/happened
        | why is/are/do/does/did/can/can't/won't/isn't/isnt | when will/is/are/do/does/can
        | where is/are/can/do | can/could/would you/someone/anyone/i/we
        | does/do/is/are anyone/anybody/this/it/there/you | any idea/update/news
        | anyone know | is it possible | est ce
        | comment faire/on/je/puis/peut/ca/est/se | pourquoi | quand est/va/allez/pourrai*
        | ou est/sont/trouver/puis | quel/quels/quelle/quelles est/sont | pouvez/pourriez vous
        | peux/pourrais tu | quelqu'un sait/peut/a | une idee | vous savez/pouvez | savez vous
        | is/are there | do/did you have | do/did/can/should/will i | will/can/could/would you
        | please/pls/plz/plse/kindly | please/pls/plz/plse help/advise | help me/us
        | need/needs/get/some/any help | help asap
        | thanks/thank/thx/ty in advance | let me know | advise | i have a question
        | quick question | any way/chance | anyway i/to | wondering | who do/can/should i
        | il vous plait | svp | aidez moi | besoin aide | merci avance
        | would/will be grateful | be grateful if
        | hope/hoping you/u can/could/will/would help/fix/sort/refund/resolve/assist/look/check
        | espere que vous pourrez/pouvez/pourriez/allez m/me/nous/aider/regler/rembourser
        | espere que vous pourrez/pouvez/pourriez/allez resoudre/corriger/repondre/verifier
    """,
    "complaint": f"""
        {_NEGATORS}/stopped/won't/wont work*/load*/arriv*/respond*
        | broken | crash* | buggy | refund* | still waiting | still no/not/nothing
        | never arrived/received/got
        | worst/terrible/awful/horrible/useless/pathetic/poor/bad
          service/support/experience/app/product/company/quality/customer
        | waste of money/time | rip off | ripoff | disappoint* | unacceptable | fed up
        | ridiculous | cancel* my | charged twice | overcharg* | no response/reply/answer
        | on hold | can't/cant/cannot log/login/access/connect | down again | outage
        | please fix | fix this/it | complain* | damaged | late delivery
        | hasn't/hasnt/haven't/havent arrived/received/heard | lost my package/order/parcel
        | scam* | sucks | not happy | unhappy | frustrat* | annoy*
        | marche/fonctionne pas/plus | en panne | bug* | beug*
        | ca/appli/application/site/qui plante
        | rembours* | toujours pas/rien | jamais recu/arrive/livre | pas recu/livre
        | panne | pannes | retard | retards
        | pas top/terrible/genial/super/ouf/fou
        | colis perdu | arnaqu* | honteu* | inadmissible | inacceptable | nul | nulle
        | decu | decue | decus | decues | decevant* | aucune reponse/nouvelle
        | service client nul/inexistant/lamentable/injoignable | pas de reponse/nouvelles
        | personne ne repond | injoignable | escroc* | bloque | bloquee | bloques
        | facture/factures/facturee deux fois
        | resilie/resilies/resiliee/resiliees/resilier/resiliation/resiliations/resilions/resiliez
        | resilierai/resilieras/resiliera/resilierons/resilierez/resilieront/resilierais
        | resilierait/resiliais/resiliait/resiliaient/resiliant | ras le bol | marre | inutilisable
        | lamentable | a chier | foutage de gueule | galere*
        | charged/charging/billed/billing me/my/twice/again/for | been/being/was/were/still charged
        | double charged/billed | overbill* | money back | reverse the? charges | collections
        | no luck | to no avail | didn't/didnt/doesn't/doesnt work* | did/does not work*
        | not working/loading/responding/connecting/showing/allowing | won't/wont/doesn't let me
        | not allowing | still broken/down/waiting/not/no/nothing/can't/cant/unable/having/getting
        | still being/haven't/havent/hasn't/hasnt/won't/wont/doesn't/doesnt/isn't/isnt/didn't
        | account locked/suspended/disabled/blocked/restricted | locked out | unable to
        | lost in transit | lost my/our/the/it | got/been lost | where is my | where's/wheres my
        | missing | wrong address/item/order/size/information/info/charge | incorrect
        | error* | issue* | problem* | trouble* | glitch* | faulty | defect* | freez* | stuck
        | stranded | delay* | cancel* | no service/signal/internet/wifi/connection/power
        | zero service | without internet/service/power/phone/explanation | is down | internet down
        | keeps crashing/freezing/dropping/failing/disconnecting/restarting | disconnect*
        | throttl* | slow | dies | drain* | killing my | fix it | fix this/that/the/my
        | needs/need to be fixed | get/need this/it fixed | needs fixing | sort it/this out
        | unhelpful | rude | lie/lied/lies/lying/liar/liars | fraud* | worst | horrible
        | terrible | awful | pissed | angry | furious | upset | sad | smh | wtf | ridiculous
        | lame | a joke | sick of | tired of | done with you | never again
        | will never | switching to | switch to | other companies/carriers/providers
        | getting rid | waste | been waiting | waiting for/on | waited | for hours | days without
        | another day without | haven't/havent/hasn't/hasnt received/got/gotten/heard
        | never received/got/came/showed | not received | nobody knows/answers/helps/reads
        | no one knows/answers/helps/reads
        | no explanation/notification/answer/update | refus* | hold for | hold times
        | can't/cant/cannot even | didn't/didnt even | not even | still no answer
        | 1st/2nd/3rd/4th/5th/third/fourth/fifth/second call/time/attempt/email/message
        | unjustifiabl* | inconvenien* | unprofessional | nothing has been | no one has
        | expired | declined | denied | worse | evil | timed out | nothing works
        | package/parcel/order/delivery/shipment/luggage/bag/suitcase is/was/got/has/have been? lost
        | lost again | arrived/came cold/wrong/stale | was/were cold/stale
        | didn't/didnt receive/arrive | did not receive/arrive
        | impossible to
        | impossible de me/m/nous/se/joindre/acceder/ouvrir/utiliser/installer/envoyer
        | impossible de obtenir/payer/commander/annuler/contacter/telecharger/suivre
        | impossible de recevoir/parler/avoir/charger/modifier
        | impossible acceder/joindre/ouvrir/utiliser/installer/envoyer/obtenir
    """,
    "praise": """
        love* | thank* | thx | great | great job/service/product/experience/support/app/work
        | awesome | amazing | excellent* | fantastic | perfect | best app/service/product/ever/team
        | well done | kudos | impressed | recommend* | brilliant | outstanding | superb
        | good job | nice work | you rock | so good | fab | grateful | no fuss
        | merci | bravo | genial* | parfait* | au top | est top | trop top/bien/bon | adore
        | aime | meilleur* | felicitation* | chapeau | impeccable | recommand*
        | ravi | ravie | ravis | magnifique | formidable | incroyable | est super
        | super service/produit/equipe/boulot/travail/accueil/sympa
        | guys rock | y'all rock
    """,
    # The customer stays, or came from a competitor: praise the complaint model must not
    # read as leaving ("switched to you from Verizon, never been better"); raised as
    # "praise" with ``IntentResult.loyalty``.
    "loyalty": """
        switched/moved/came over? to you/u/y'all | never been better/happier | no regrets
        | never leave/leaving you/u/y'all | never going to leave you/u
        | aucun regret | jamais sans vous | ne vous quitterai/quitterais/quitte jamais
        | passe/passee/passes/passees chez vous
    """,
    # A threat to leave: a complaint however friendly the words around it ("ok, switching
    # to your competitor"); raised as "complaint" with ``IntentResult.churn_threat``.
    # Spanish, German and Portuguese as phrases: "me doy de baja", not "baja" (a drop).
    "churn": """
        switching/switch to your/a competitor/competitors | switching/switch to the competition
        | switching/switch/change/changing carriers/providers/networks/banks
        | switching/switch/change/changing airlines/companies/isps
        | cancel/cancelling/canceling my/our | will/gonna/i'll cancel*
        | going/about/planning/time/thinking/ready to cancel* | thinking about/of cancel*
        | will/gonna/i'll switch | going/about/planning/time/ready to switch
        | thinking about/of switching | done with you/u/y'all
        | i'm/im done with you/u/y'all | i am done with you/u/y'all
        | i'm/im/am done with this/the/your app/service/company/airline/bank/carrier/store/brand
        | take/taking/took my/our business | lost/lose/losing my/our business
        | go/going/shop/shopping/look/looking/buy/buying/order/ordering elsewhere
        | last time i order/fly/buy/use/shop/book/deal/travel/stay
        | last time i'll/i'm/im order/ordering/fly/flying/buy/buying/use/using/shop/shopping
        | last time i'll/i'm/im book/booking/deal/dealing/travel/traveling/stay/staying
        | lost/lose/losing a/an/another? loyal/longtime/faithful? customer
        | lost/lose/losing a/an? long time customer
        | lost/lose/losing me as a? customer | no longer a customer | stop being a customer
        | a new carrier/provider/isp/bank/airline | another carrier/provider/isp/bank/airline
        | other companies/carriers/providers
        | won't/wont be back/returning/ordering/flying/using/buying/shopping/booking
        | je pars chez/ailleurs | je vais ailleurs | voir ailleurs | aller ailleurs
        | chez/a la concurrence | je vous quitte | je resilie | vais resilier
        | resilier mon/ma/mes | change/changer/changerai/changement de? operateur/fournisseur
        | plus jamais chez/avec/ca | ne commanderai/reviendrai/prendrai/acheterai plus/jamais
        | ne recommanderai plus/jamais | derniere fois que je commande/prends/achete/voyage
        | derniere fois que je passe/reserve/vole/viens
        | perdre/perdu/perdez un client | perdre/perdu/perdez une cliente
        | me doy/damos de baja | me voy/vamos a dar de baja | voy/vamos a darme/darnos de baja
        | me voy/vamos/paso/pasamos/cambio/cambiamos a la competencia
        | me cambio/cambiamos de compania/operador/operadora/banco/proveedor
        | cancelo/cancelare/voy a cancelar mi/el contrato/cuenta/suscripcion/linea
        | voy/vamos a cancelar
        | ich/wir kundige/kundigen | kundige/kundigen ich/wir | werde/werden kundigen
        | vertrag kundigen/gekundigt | wechsle/wechseln zur konkurrenz
        | wechsle/wechseln den/meinen/unseren anbieter | anbieter wechseln
        | vou/vamos cancelar | vou/vamos para a concorrencia | vou/vamos trocar/mudar de operadora
        | vou/vamos trocar/mudar de banco/empresa/plano
    """,
    # "never flying with you again": a threat to leave only when "again" (or "ever
    # again", "encore") follows within a few words; "never using cash, love Apple Pay" is not.
    "churn_again": """
        never/not/won't/wont fly/flying/use/using/buy/buying/order/ordering/shop/shopping
        | never/not/won't/wont book/booking/travel/travelling/traveling/deal/dealing
        | never/not/won't/wont recommend/recommending/return/returning/stay/staying
        | never/not/won't/wont be ordering/flying/using/buying/shopping/booking/staying
    """,
    # Thanks that mean the opposite: a complaint however friendly the words
    # (``IntentResult.sarcasm``).
    "sarcasm": """
        thanks/thank/thx/ty for nothing | thank you/u for nothing | thanks/thx u/you for nothing
        | thanks/thank/thx 4 nothing | thank you/u 4 nothing
        | thanks/thx a lot/bunch/ton for nothing | thanks for absolutely/literally nothing
        | merci pour rien
    """,
    "purchase_intent": """
        want/wanna/going/plan/planning/looking/like to buy/order/purchase/subscribe
        | where can/do i buy/get/order/find | how much is/does/for/are/do
        | price* | pricing | get/request a quote | discount* | in stock | available in
        | ship/ships/shipping to | preorder* | pre order* | subscribe | free trial
        | book a demo | sales team | interested in buying/your/the
        | acheter | achat | commander | combien coute/pour/est | combien ca coute | prix
        | tarif* | devis | abonnement | abonner | en stock | dispo/disponible en
        | est/sera il dispo/disponible | livre/livrez/livraison en | ou trouver/acheter
        | essai gratuit | une demo | je veux/voudrais acheter/commander
    """,
    "risk:legal": """
        lawsuit* | sue | suing | lawyer* | attorney* | legal action | class action
        | in/to court | court case | cease and desist | defamation | libel | gdpr | regulator*
        | ftc | trading standards | small claims | report you to
        | avocat* | proces | poursuite/poursuites judiciaire* | porter plainte | plainte contre
        | tribunal* | mise en demeure | diffamation | rgpd | cnil | dgccrf | action en justice
        | huissier* | action de groupe
        | bbb | better business bureau | attorney general | fcc | consumer protection
        | ombudsman | reporting you/this | report this to | file a complaint with
        | abogado/abogada/abogados/abogadas | voy/vamos a demandar* | pienso/pensamos demandar*
        | demandaros/demandarlos/demandarlas/demandarles/demandarle/demandarla/demandarte
        | demandare/demandaremos | demanda judicial/colectiva | accion/acciones judicial/judiciales
        | poner/presentar/interponer/meter una demanda | una demanda contra | denunci*
        | juicio contra | llevar/llevaros/llevarlos a juicio | juzgado | proceso judicial
        | acciones/medidas legales | hoja/libro de reclamaciones | ocu | facua
        | aepd | omic | verklag* | klage | sammelklage* | anwalt* | rechtsanwalt*
        | anwaltin/anwaltinnen | rechtliche schritte | vor/zum/ans gericht | abmahnung*
        | strafanzeige* | anzeige erstatten/gegen | verbraucherzentrale* | verbraucherschutz*
        | bundesnetzagentur | dsgvo | datenschutzbehorde | schlichtungsstelle
        | vou/vamos/irei/iremos processa* | processar voces/vcs/vc/voce/essa/esta/a empresa
        | processo judicial/contra
        | entrar com um/uma? processo/acao | acao judicial | advogad* | procon | na justica
        | acionar a? justica | juizado* | lgpd | anpd
    """,
    "risk:safety": """
        caught fire | on fire | explod* | explosion* | burn* | injur* | hospital* | poison*
        | allergic reaction | allergy | choking | product recall | recalled | dangerous
        | unsafe | hazard* | toxic | electric shock | overheat* | killed | death
        | incendie | pris feu | explose* | brule* | brulure* | blesse* | blessure* | hopital
        | urgences | intoxication | empoisonn* | allergi* | etouff* | rappel de? produit
        | dangereu* | toxique | decharge electrique | surchauff* | deces
        | accident* | assault* | attacked | grabbed | reckless* | drunk driver | hurt
        | allerg* | anaphyla* | epipen | our/my/your/passenger/passengers safety
        | safety concern*/issue*/hazard*/risk | police
        | incendio* | se me/le/nos? quemo/incendio/prendio | prendio/salio fuego | quemadura*
        | exploto | estallo | herido/herida/heridos/heridas | lesion/lesiones | urgencias
        | intoxicacion* | intoxicad* | envenena* | alergi* | peligros* | descarga electrica
        | sobrecalent* | muerte | fallecio | salia/salio/saliendo humo
        | retirada del producto | feuer | feuerwehr | geriet/gerat/gerieten in brand
        | brand geraten/gesetzt | brandgefahr | abgebrannt | verbrannt | verbrennung*
        | verletzung* | verletzt | krankenhaus* | notaufnahme | notarzt | vergiftung*
        | vergiftet | gefahrlich* | lebensgefahr* | stromschlag* | uberhitz* | ruckrufaktion*
        | produktruckruf* | unfall* | erstickt
        | pegou/pegando/pega fogo | explodiu | queimadura* | me queimei | se queimou | ferid*
        | machucad* | intoxicacao | perigos* | choque eletrico | superaquec*
        | faleceu | acidente* | pronto socorro | saiu/saindo fumaca
    """,
    "risk:data_breach": """
        data breach | breach* | leaked | data leak* | hacked | hacker*
        | data/account/card was/got? stolen/compromised | phishing
        | password/passwords leak*/exposed | exposed data/passwords | compromised
        | identity theft | unauthorized/unauthorised charge/access/login/transaction
        | fuite/fuites de/des donnees | pirat* | hacke* | donnees volees/personnelles/exposees
        | hameconnage | usurpation identite | compte compromis | connexion suspecte
        | prelevement/prelevements non autorise*
        | stole/stolen my? account/phone/number/card/identity | account was/got/been? stolen
        | someone accessed/used/logged into? my | took over my | account takeover
        | gave/given my number/account away | gave away my number/account | sim swap*
        | ported my number | scam call*/caller*/text*/email* | scammer* | posing as
        | pretending to be | impersonat* | fake account/page/website/site
        | security flaw/hole/issue/bug/breach | vulnerabilit* | not case sensitive
        | filtracion/filtraciones de/de los? datos | datos filtrados/robados/expuestos
        | brecha de seguridad/datos | robo/suplantacion de identidad | cargo/cargos no autorizado*
        | acceso no autorizado | robado/robaron/hackeado/hackearon mi/la cuenta
        | datenleck* | datenpanne* | datenschutzverletzung* | datenklau | gehackt | geleakt
        | daten gestohlen/geklaut/geleakt | identitatsdiebstahl | sicherheitslucke*
        | nicht autorisiert/autorisierte/autorisierten abbuchung/abbuchungen/zugriff
        | unbefugt/unbefugte/unbefugter zugriff/abbuchung/abbuchungen
        | vazamento/vazamentos de dados | vazaram meus? dados | dados vazados/expostos/roubados
        | conta invadida/clonada | cartao clonado | clonaram | roubo de identidade
        | compra/compras nao autorizada* | acesso nao autorizado
    """,
    "risk:crisis": """
        boycott* | scandal* | racis* | sexis* | harass* | discriminat* | abus* | shame on you
        | disgust* | outrage* | child labor/labour | threat* | bomb | suicid* | homophob*
        | transphob* | scandale* | harcel* | honte a vous | degoutant* | ecoeurant*
        | maltraitance | travail des enfants | bad buzz | polemique* | menace/menaces de
        | menace/menaces/menacent/menacer moi/nous/vous
        | escandal* | boicot* | acoso | acosad* | discrimin* | trabajo infantil | amenaza*
        | homofob* | transfob* | skandal* | boykott* | diskriminier* | belastig* | missbrauch*
        | kinderarbeit | bedroh* | drohung* | assedio | trabalho infantil | ameaca*
    """,
    "spam": """
        free followers | buy followers | click here/link | link in bio
        | check out? my profile/page/channel/bio | dm me? for | follow me/back | giveaway*
        | win a/an/free | crypto* | bitcoin* | forex | investment opportunit* | make money
        | onlyfans | promo code | limited offer | work from home | casino* | betting | nft*
        | airdrop* | porn* | xxx | viagra | loan/loans
        | gagnez | cliquez ici | lien en bio | abonnez vous | gagner de argent | code promo
        | suivez moi | argent facile | travail a domicile | paris sportifs
    """,
    # The brand is now waiting on itself: the customer sent what was asked, or says so.
    "waiting": """
        sent you/u a? dm/dms/message/details/email/pm | dm/dms/message/details sent
        | dm'd/dmed/messaged/emailed you/u | i've/i/just sent | i have sent | sent a dm/message/pm
        | check your/ur dm/dms/inbox/messages | in the? dm/dms | via dm | replied to your
        | still waiting for/on your? reply/response/answer | waiting for/on your reply/response
        | vous ai envoye | envoye en mp/dm | en mp | en message prive
    """,
    # The customer closes the case or acknowledges: the next step is theirs, or none.
    "closing": """
        solved | resolved | sorted now | all sorted | works now | working now | it works
        | works fine/again/great | came back | back on/up now | fixed now | it's fixed
        | its fixed | is fixed | all good | never mind | nevermind | no worries | got it
        | will do | ok | okay | kk | my pleasure | you too | have a good/great/nice
        | no problem | i'll try | will try | i'll do that | go ahead and do that | works
        | let me think | i'll install/update/check | i will install/update/check
        | that did it | that worked | it worked | problem solved | est regle | ca marche
        | ca fonctionne | est bon | pas de souci
        | probleme/problemes est/sont? regle/regles/resolu/resolus | est resolu/resolue
        | problema/problemas esta/e/foi/fue? resuelto/resueltos/solucionado/resolvido/risolto
        | problem ist? gelost/behoben | remboursement recu/effectue/obtenu | refund received
        | merci pour/du le/mon/votre? remboursement
    """,
}

RAISES = {"churn": "complaint", "churn_again": "complaint", "sarcasm": "complaint",
          "loyalty": "praise"}
"""Rules that raise another rule's flag (and set a field of ``IntentResult``)."""

# Everything but letters, digits and the apostrophe becomes a space, then str.split().
# Every ASCII character but letters, digits, "'" and "#" separates words. A bytes table:
# the text is ASCII by then, and bytes.translate is twice as fast as str.translate.
_SEPARATORS = bytes(
    c if c >= 128 or chr(c).isalnum() or chr(c) in "'#" else ord(" ") for c in range(256)
)
# French elided articles are dropped ("l'appli" -> "appli"); "n'" becomes "ne".
_ELISION_RE = re.compile(r"\b(?:[ldjmstc]|qu|jusqu|lorsqu|puisqu)'|\b(n)'", re.ASCII)
_HASHTAG_RE = re.compile(r"#\w+")
_MANY_HASHTAGS = 6
_MANY_LINKS = 3
_NOT_NEGATABLE = ("thank", "thx", "merci")  # "no thanks" is polite, not a complaint
_HASHTAG_STEM_SLACK = 3
FLAG_ORDER = (
    "risk:legal", "risk:safety", "risk:data_breach", "risk:crisis",
    "spam", "complaint", "purchase_intent", "question", "waiting", "praise", "courtesy",
    "closing",
)  # fmt: skip
# A thank-you inside a message with more to say is a courtesy, not praise:
# "Thanks for your reply but the box still reboots" asks for more help; so does one after
# an order id or version, however short ("my order is 88412093, thanks").
_THANKS = ("thank", "thx", "ty", "merci", "cheers")
_COURTESY_MIN_WORDS = 6
# "love the app but I can't log in": what follows the contrast is the author's point.
_CONTRAST = frozenset((
    "but", "however", "yet", "unfortunately", "sadly", "except",
    "mais", "cependant", "pourtant", "malheureusement", "sauf", "toutefois", "neanmoins",
))  # fmt: skip
# "Thanks! It still hasn't arrived though": a final "though" marks what came before.
_FINAL_CONTRAST = ("though", "tho")
_FINAL_CONTRAST_REACH = 3  # words between a grievance's last word and "though", at most
# "never flying with you again": "again" at most this many words after the verb.
_AGAIN = frozenset(("again", "anymore", "encore"))
_UNTIL = frozenset(("until", "till", "til"))
_NOTHING_BUT = frozenset(("but", "short", "less", "else"))
# A breakdown or delay can be denied: "aucun retard", "zéro panne", "sans retard".
_DENIABLE = frozenset(("panne", "pannes", "retard", "retards", "problem", "problems", "probleme",
                       "problemes", "problema", "problemas"))
# Verbs of leaving a complaint rule reads alone ("cancel*", "resili*"): negated in
# Portuguese, Spanish, French or Italian they say the customer stays (``_staying``).
_LEAVING_STEMS = ("cancel", "resili")
# Their English forms: "no cancel button" is a complaint, not a promise to stay.
_ENGLISH_LEAVING = frozenset((
    "cancel", "cancels", "canceled", "cancelled", "canceling", "cancelling", "cancellation",
    "cancellations",
))  # fmt: skip
_ROMANCE_NEGATORS = frozenset(("nao", "no", "ne", "non", "nunca", "jamais", "jamas", "nem",
                               "ni", "pas", "mai"))
# Words between the negator and the verb of leaving that keep it a promise to stay:
# future and intent auxiliaries ("não vou", "no voy a", "je ne vais pas", "non voglio"),
# object pronouns, "plus"/"mais"/"más". Not "can" nor any verb of ability or effort ("no
# puedo cancelar", "je ne peux pas résilier", "je n'arrive pas à résilier", "no consigo
# cancelar", "non riesco a cancellare": a customer who cannot leave complains).
_STAYING_FILLERS = frozenset((
    "vou", "vamos", "vai", "irei", "iremos", "quero", "penso", "pretendo", "voy", "va",
    "quiero", "pienso", "vais", "allons", "veux", "compte", "plus", "mais",
    "mas", "voglio", "ho", "intenzione", "di", "lo", "la", "le", "los", "las", "o", "os", "me",
    "te", "nos", "vos", "les",
))  # fmt: skip
# "a" is a filler only after a future auxiliary ("no voy a cancelar"): folded, French "à"
# is "a" too, and "je n'arrive pas à résilier" cannot leave.
_FUTURE_BEFORE_A = frozenset(("voy", "vamos", "va", "vai"))
# A contrast after the negated verb says why staying is no choice ("no quiero cancelar
# pero me obligan", "je ne veux pas résilier mais..."): the complaint stands. These are
# "but" in every language read here.
_STAYING_CONTRAST = frozenset(("pero", "porem", "pourtant", "tuttavia"))
# These are "but" only in the verb's own language: French "mais" after résilier, Italian
# "ma" after cancellare (French "ma" is "my": "je ne résilie pas ma ligne").
_CONTRAST_OF_VERB = (("resili", "mais"), ("cancell", "ma"))
# Elsewhere they count only right after a comma or a sentence's end ("Não vou cancelar.
# Mas me obrigam..."): Portuguese "mais" is "more"/"anymore"
# ("não vou cancelar mais nada") and Spanish "más" folds to "mas" ("no voy a cancelar más
# pedidos").
_AMBIGUOUS_CONTRAST = frozenset(("mais", "mas", "ma"))
# A contrast opening thanks or praise keeps no complaint ("je ne vais pas résilier, mais
# merci pour votre aide"); _THANKS_WORDS count too. Not "super" or "top": after "pero"
# they intensify ("pero super decepcionado", "pero top 3 peores servicios").
_CONTRAST_PRAISE = frozenset((
    "adoro", "adore", "amo", "encanta", "parfait", "perfecto", "perfeito", "perfetto",
    "genial", "excelente", "excellent", "parabens", "felicidades",
    "felicitations", "complimenti",
))  # fmt: skip
_STAYING_REACH = 4  # filler words, at most, between the negator and the verb
_POSTVERBAL = frozenset(("pas", "jamais"))  # French negation after the auxiliary
_NONE = frozenset(("aucun", "aucune", "zero", "sans", "plus", "kein", "keine", "keinen",
                   "ningun", "ninguna", "sin", "sem", "nenhum", "nenhuma"))
# A bare problem or refund word in a thank-you that closes the case ("merci, problème
# réglé", "remboursement reçu, merci"): the case is settled, no complaint.
_SETTLED = ("problem", "rembours", "refund")
# A problem word this many words or more after a closing term is not its object ("we
# solved the problem", "solved my billing problem"): the complaint goes on.
_OBJECT_REACH = 3
# A threat to leave in a sentence asking, in Spanish, German or Portuguese, is a question.
_SENTENCE_RE = re.compile(r"[^.!?？\n]+[.!?？\n]*")
_QUESTION_WORDS = frozenset((
    "wie", "wo", "kann", "konnen", "muss", "werde", "donde", "como", "puedo", "posso", "onde",
))  # fmt: skip
# Contrast words of the other languages a settled thank-you is read in.
_MORE_CONTRAST = frozenset(("pero", "aber", "doch", "ma", "mas", "sino", "mais"))
_ACKNOWLEDGED = frozenset(("ok", "okay", "kk"))  # "ok thanks, I want a refund" settles nothing
_THANKS_WORDS = frozenset((
    "merci", "thanks", "thank", "thx", "danke", "dank", "gracias", "obrigado", "obrigada",
    "grazie", "bravo",
))  # fmt: skip
_TO_THE_BRAND = ("you", "u", "y'all", "your")
_AGAIN_REACH = 4
# ... with the brand in between, named or not: "with you", "from them", "a VW", "this
# app"; "never using cash again" is a habit, not a threat.
_AGAIN_LINKS = frozenset((
    "with", "from", "at", "on", "you", "u", "y'all", "them", "your", "ur", "their", "this",
    "that", "these", "those", "a", "an", "the", "here", "there", "it",
))  # fmt: skip
# Irony: praise over a failure with one of these words or emoji ("great, lost again 🙃").
_IRONY_CUES = frozenset(("again", "another", "encore", "usual", "nouveau", "nouvelle"))
_IRONY_EMOJI = ("🙃", "🙄")  # a plain smiley is as often sincere
_CUE_REACH = 2  # a cue word at most this many words before a one-word grievance


_TABLE = PhraseTable(RULES)
_WORD_SLACK = 100
# A hashtag's phrases depend on the word without its "#", read with less stem slack:
# found where it is met (see detect_intent).
_HASHTAG_STARTS = (Phrase("#", ()),)
_STARTS: dict[str, tuple[Phrase, ...]] = {}


def _starts(word: str) -> tuple[Phrase, ...]:
    """The phrases that can start at ``word`` (``_HASHTAG_STARTS`` for a hashtag)."""
    if word.startswith("#"):
        return _HASHTAG_STARTS
    return _TABLE.starting(word, _WORD_SLACK)


_NEGATOR_WORDS = frozenset(_NEGATORS.split("/")) | {"ne", "nao", "nunca", "nie", "nicht"}
_AFTER_NEGATORS = frozenset(("nicht", "nie", "niemals"))


@fast_init
@dataclass(frozen=True, slots=True)
class IntentFlag:
    """A raised flag (``"complaint"``, ``"risk:legal"``...) and the terms that raised it."""

    name: str
    terms: tuple[str, ...]


@fast_init
@dataclass(frozen=True, slots=True)
class IntentResult:
    """The main intent and every flag raised, in ``FLAG_ORDER``.

    ``complaint_after_contrast``: the last complaint term is what the text comes to
    after a contrast ("love the new app but I can't log in", "Thanks! It still hasn't
    arrived though"), so the grievance is the author's point whatever the tone around it.
    ``churn_threat``: a complaint term is a threat to leave ("switching to", "je résilie",
    "never flying with you again"). ``sarcasm``: thanks that mean the opposite ("thanks
    for nothing") or praise over a concrete failure with a cue of irony ("Amazing, my
    order arrived wrong again 😊"). Either way the complaint stands whatever the tone.
    ``loyalty``: a praise term says the customer stays or came to the brand ("never
    been better", "switched to you"), which a model may read as leaving.
    """

    intent: Intent
    flags: tuple[IntentFlag, ...]
    complaint_after_contrast: bool = False
    churn_threat: bool = False
    sarcasm: bool = False
    loyalty: bool = False

    @property
    def flag_names(self) -> tuple[str, ...]:
        """Names of the raised flags."""
        return tuple(f.name for f in self.flags)

    @property
    def risk_kinds(self) -> tuple[str, ...]:
        """Kinds of risk raised (``"legal"``, ``"safety"``...)."""
        return tuple(f.name.split(":", 1)[1] for f in self.flags if f.name.startswith("risk:"))

    def terms(self, name: str) -> tuple[str, ...]:
        """Terms that raised flag ``name`` (empty if not raised)."""
        for flag in self.flags:
            if flag.name == name:
                return flag.terms
        return ()


def _words(text: str) -> list[str]:
    """Lowercase accent-free ASCII words; emoji and other scripts are dropped."""
    folded = fold_accents(text)
    if not folded.isascii():
        folded = folded.replace("’", "'").encode("ascii", "ignore").decode("ascii")
    if "'" in folded:
        folded = _ELISION_RE.sub(lambda m: "ne " if m.group(1) else "", folded)
        return [w.strip("'") for w in _separated(folded).split() if w != "'"]
    return _separated(folded).split()


def _separated(ascii_text: str) -> str:
    """``ascii_text`` with every separator replaced by a space (ASCII text only)."""
    return ascii_text.encode("ascii").translate(_SEPARATORS).decode("ascii")


def _negated(words: list[str], i: int) -> bool:
    """A negator among the two words before position ``i``."""
    return any(w in _NEGATOR_WORDS for w in words[max(0, i - 2) : i])


def detect_intent(text: str, without_links: str | None = None) -> IntentResult:
    """Flags raised by ``text`` and its main intent (``without_links``: ``strip_links(text)``
    when the caller has it already).

    The main intent is, in order: risk; spam when strong (two spam terms, or many links
    and hashtags on a mention that neither complains nor asks); complaint; purchase
    intent; question; "other" when the customer says they sent what was asked
    ("waiting" flag); praise; weak spam; else "other" (a "closing" flag marks a
    customer closing the case or acknowledging).
    """
    without_urls = strip_links(text) if without_links is None else without_links
    words = _words(without_urls)
    found: dict[str, list[str]] = {}
    last_complaint = -1
    first_praise = -1
    churn = sarcasm = loyalty = False
    grievances: list[tuple[int, int]] = []  # (start, end) of complaint terms not negated
    closings: list[tuple[int, int]] = []  # (start, end) of closing terms
    complaint_at: list[int] = []  # starts of complaint terms
    starts = starts_of(words, _STARTS, _starts)
    # Only the words that start a phrase, or are hashtags, are visited (most start none).
    for i in compress(range(len(words)), starts):
        phrases = starts[i]
        if phrases is _HASHTAG_STARTS:
            # A hashtag glues words: "#ResilienceDuVivant" must not pass for "resili*".
            word = words[i] = words[i].lstrip("#")
            phrases = _TABLE.starting(word, _HASHTAG_STEM_SLACK)
            if not phrases:
                continue
        longest: dict[str, int] = {}  # per flag, so "great job" wins over "great"
        for phrase in phrases:
            end = match_rest(phrase.rest, words, i + 1) if phrase.rest else i + 1
            if end > longest.get(phrase.key, -1):
                longest[phrase.key] = end
        if "sarcasm" in longest and longest["sarcasm"] < len(words) and (
                words[longest["sarcasm"]] in _NOTHING_BUT):
            del longest["sarcasm"]  # "thanks for nothing short of perfection"
        if "sarcasm" in longest:  # "thanks for nothing" is no thanks
            longest.pop("praise", None)
        for flag, end in longest.items():
            term = " ".join(words[i:end])
            if flag == "churn_again":
                if not _again(words, end):
                    continue
                flag = "churn"
            if flag == "churn" and (not _threat(words, i, end) or _asked(without_urls, words, i)):
                continue
            if flag in ("complaint", "churn") and _staying(without_urls, words, i, end):
                continue  # "não vou cancelar", "no lo voy a cancelar", "je ne vais pas résilier"
            if flag in RAISES:
                churn = churn or flag == "churn"
                sarcasm = sarcasm or flag == "sarcasm"
                loyalty = loyalty or flag == "loyalty"
                flag = RAISES[flag]
            if flag == "praise" and not term.startswith(_NOT_NEGATABLE) and _negated(words, i):
                flag, term = "complaint", f"not {term}"
            elif flag == "praise" and first_praise < 0 and not term.startswith(_THANKS):
                first_praise = i  # not thanks: "thanks, it was not working" is sincere
            if flag == "closing" and term.startswith(_SETTLED) and (
                    _negated(words, i) or (i > 0 and words[i - 1] in _NONE)):
                continue  # "pas de remboursement reçu", "ningún problema resuelto"
            if flag == "complaint" and term in _DENIABLE and "closing" not in longest and (
                    _negated(words, i) or (i > 0 and words[i - 1] in _NONE)):
                continue  # "pas de retard aujourd'hui", "aucune panne depuis 2 ans"
            if flag == "closing":
                closings.append((i, end))
            elif flag == "complaint":
                complaint_at.append(i)
            if flag == "complaint":
                last_complaint = i
                if words[i] in _NEGATOR_WORDS or not _negated(words, i):
                    grievances.append((i, end))
            found.setdefault(flag, []).append(term)
    if has_question_mark(without_urls):  # "？", "؟" too: a question in any script
        found.setdefault("question", []).append("?")
    if "http" in text or "www." in text:
        links = len(URL_RE.findall(text))
        if links >= _MANY_LINKS:
            found.setdefault("spam", []).append(f"{links} links")
    if "#" in text:
        hashtags = len(_HASHTAG_RE.findall(text))
        if hashtags >= _MANY_HASHTAGS:
            found.setdefault("spam", []).append(f"{hashtags} hashtags")
    if not (churn or sarcasm) and _settled_thanks(
            found, words, closings, complaint_at, without_urls):
        del found["complaint"]  # "merci, problème réglé", "remboursement reçu, merci !"
    praise = found.get("praise")
    if praise and all(t.startswith(_THANKS) for t in praise) and (
            _rest(words, praise) or _gives_details(without_urls)):
        found["courtesy"] = found.pop("praise")
    flags = tuple(
        IntentFlag(name, tuple(dict.fromkeys(found[name]))) for name in FLAG_ORDER if name in found
    )
    contrast = last_complaint >= 0 and _after_contrast(words, last_complaint)
    if not sarcasm and 0 <= first_praise < last_complaint:
        sarcasm = _praise_over_grievance(text, words, first_praise, grievances)
    return IntentResult(intent=_main_intent(flags), flags=flags, complaint_after_contrast=contrast,
                        churn_threat=churn, sarcasm=sarcasm, loyalty=loyalty)


def _settled_thanks(
    found: dict[str, list[str]], words: list[str], closings: list[tuple[int, int]],
    complaint_at: list[int], text: str,
) -> bool:
    """Whether the only complaint terms are bare problem or refund words ("problème",
    "refund") in a thank-you that closes the case ("merci, problème réglé", "Danke,
    Problem gelöst!", "remboursement reçu, merci"): a closing term other than a bare
    "ok", and praise or a word of thanks in any of the languages. Not when the complaint
    goes on after the last closing term, with a contrast word ("merci pour le
    remboursement mais j'ai toujours un problème") or a problem word that is not its
    object (``_OBJECT_REACH``), nor when a closing
    term is asked ("gracias, problema resuelto? no, sigue igual"). ``closings``: the
    (start, end) of the closing terms in ``words``; ``complaint_at``: the starts of the
    complaint terms; ``text``: the text without links."""
    closing = found.get("closing", [])
    complaint = found.get("complaint", [])
    if not (bool(closing and complaint) and not _ACKNOWLEDGED.issuperset(closing) and all(
            " " not in t and t.startswith(_SETTLED) for t in complaint) and (
            "praise" in found or not _THANKS_WORDS.isdisjoint(words))):
        return False
    last = max(end for _, end in closings)
    if any(w in _CONTRAST or w in _MORE_CONTRAST for w in words[last:]):
        return False
    if any(i >= last + _OBJECT_REACH for i in complaint_at):
        return False
    folded = fold_accents(text).lower()
    return not any(
        re.search(r"\b" + r"\W+".join(map(re.escape, words[i:end])) + r"\s*[?？]", folded)
        for i, end in closings)


def _threat(words: list[str], i: int, end: int) -> bool:
    """Whether the churn term ``words[i:end]`` threatens to leave. Not when negated ("I'll
    never cancel my subscription", "je ne pars pas chez la concurrence"), postponed ("won't
    be back until next summer"), or a switch from a competitor or to the brand ("thinking
    of switching from X", "ready to switch to your new app")."""
    after = words[end : end + 2]
    if words[end - 1].startswith("switch") and after and (
            after[0] == "from" or (after[0] == "to" and after[1:] and after[1] in _TO_THE_BRAND)):
        return False
    if words[i] in ("won't", "wont") and after and after[0] in _UNTIL:
        return False
    if i > 0 and words[i - 1] == "como":
        return False  # "¿cómo me doy de baja del boletín?" asks how
    if after and after[0] in _AFTER_NEGATORS:
        return False  # German negates after the verb: "ich kündige nicht"
    return words[i] in _NEGATOR_WORDS or not _threat_negated(words, i)


def _staying(text: str, words: list[str], i: int, end: int) -> bool:
    """Whether the term ``words[i:end]`` (of ``_words(text)``), holding a Portuguese,
    Spanish, French or Italian verb of leaving, is negated: a negator before it with only
    auxiliaries or pronouns between ("não vou cancelar", "no lo voy a cancelar", "je ne
    vais pas résilier", "je vais pas résilier"), or "pas" right after ("je ne résilie
    pas"), with no punctuation in between ("no, voy a cancelar" still leaves). Not when a
    verb of ability comes between ("no puedo cancelar", "je ne peux pas résilier", "je
    n'arrive pas à résilier": a complaint), when a contrast follows ("no quiero cancelar
    pero me obligan"), nor for English forms ("no cancel button")."""
    if not any(w.startswith(_LEAVING_STEMS) and w not in _ENGLISH_LEAVING
               for w in words[i:end]):
        return False
    if _contrasted(text, words, i, end):
        return False  # "no quiero cancelar pero me obligan"
    if end < len(words) and words[end] == "pas":
        return _unbroken(text, words[i : end + 1])
    after_pas = fillers = False  # French "ne ... pas": "pas" may stand right before the verb
    start = i
    for j in range(i - 1, max(-1, i - 2 - _STAYING_REACH), -1):
        word = words[j]
        if word in _POSTVERBAL and not after_pas:
            after_pas = True
        elif word in _ROMANCE_NEGATORS:
            return _unbroken(text, words[j:end])
        elif word in _STAYING_FILLERS or (
                word == "a" and j > 0 and words[j - 1] in _FUTURE_BEFORE_A):
            fillers = True
        else:
            break
        start = j
    # "je vais pas résilier" drops the "ne"; "je peux pas résilier" cannot leave.
    return after_pas and fillers and _unbroken(text, words[start:end])


def _contrasted(text: str, words: list[str], i: int, end: int) -> bool:
    """Whether a contrast with words after it follows the verb of leaving ``words[i:end]``
    (a "mais" or "más" closing the post is "anymore"), not opening thanks or praise."""
    own = {word for stem, word in _CONTRAST_OF_VERB
           if any(w.startswith(stem) for w in words[i:end])}
    folded = fold_accents(text).lower()
    for k in range(end, len(words) - 1):
        word = words[k]
        if not (word in _STAYING_CONTRAST or word in own or (
                word in _AMBIGUOUS_CONTRAST and re.search(
                    r"\b" + re.escape(words[k - 1]) + r"\s*[,.;:!?…]+\s*" + word + r"\b",
                    folded))):
            continue
        following = words[k + 1]
        if following not in _THANKS_WORDS and following not in _CONTRAST_PRAISE:
            return True
    return False


def _unbroken(text: str, run: list[str]) -> bool:
    """Whether the words ``run`` follow one another in ``text`` with no punctuation
    between them (an elided "n'" stands for "ne")."""
    pattern = r"[\s'’]+".join("ne?" if w == "ne" else re.escape(w) for w in run)
    return re.search(r"\b" + pattern + r"\b", fold_accents(text).lower()) is not None


def _asked(text: str, words: list[str], i: int) -> bool:
    """Whether ``words[i]`` (of ``_words(text)``) is in a sentence that ends in "?" and
    holds a Spanish, German or Portuguese question word or an opening "¿": "wie kann ich
    meinen Vertrag kündigen?", "¿dónde me doy de baja del boletín?" ask how to leave."""
    if "?" not in text and "？" not in text:
        return False
    start = 0
    for sentence in _SENTENCE_RE.findall(text):
        sentence_words = _words(sentence)
        start, end = start + len(sentence_words), start
        if end <= i < start:
            return sentence.rstrip().endswith(("?", "？")) and (
                "¿" in sentence or not _QUESTION_WORDS.isdisjoint(sentence_words))
    return False


def _threat_negated(words: list[str], i: int) -> bool:
    """Whether the threat to leave at ``i`` is negated: a negator right before it, or two
    words before unless it is an interjection's "no" ("no problem, switching carriers")."""
    return (i > 0 and words[i - 1] in _NEGATOR_WORDS) or (
        i > 1 and words[i - 2] in _NEGATOR_WORDS and words[i - 2] != "no")


def _again(words: list[str], end: int) -> bool:
    """Whether "again" (or "anymore", "encore") closes, within a few words, the verb of
    leaving that ends at ``end``: right after it ("never flying again") or after a word
    naming the brand or its product ("never flying with you again", "never buying a VW
    again")."""
    for j in range(end, min(len(words), end + _AGAIN_REACH)):
        if words[j] in _AGAIN:
            return j == end or any(w in _AGAIN_LINKS for w in words[end:j])
    return False


def _praise_over_grievance(
    text: str, words: list[str], first_praise: int, grievances: list[tuple[int, int]],
) -> bool:
    """Whether praise wraps a concrete grievance with a cue of irony: "Amazing, my order
    arrived wrong again 😊", "oh great, another outage". The grievance comes after the
    praise with no contrast word after the praise ("great, it broke, but you fixed it
    fast" is sincere), is worded (a phrase: "arrived wrong", "charged twice") or comes
    just after a cue word ("another outage", "encore une panne"), and the text holds a cue: one
    of those words or an ironic emoji (🙃, 🙄). Thanks are not the praise here ("thanks,
    it was not working since Monday 😊" is sincere)."""
    if any(w in _CONTRAST for w in words[first_praise:]):
        return False
    after = [(i, end) for i, end in grievances if i > first_praise]
    if not after:
        return False
    cue_at = [j for j, w in enumerate(words) if w in _IRONY_CUES]
    if not cue_at and not any(e in text for e in _IRONY_EMOJI):
        return False
    return any(end - i > 1 or any(i - _CUE_REACH <= j < i for j in cue_at) for i, end in after)


def _after_contrast(words: list[str], i: int) -> bool:
    """Whether the word at ``i`` follows a contrast word ("but", "mais"...) with none
    after it, or comes before a final "though" ("it still hasn't arrived though"); not
    when it is negated ("hit or miss, but not awful"; "n'est jamais arrivé" is the
    term itself)."""
    if words[i] not in _NEGATOR_WORDS and _negated(words, i):
        return False
    last = len(words) - 1
    end = last if words[last] in _FINAL_CONTRAST else len(words)
    if any(w in _CONTRAST for w in words[i + 1 : end]):
        return False
    # Only a grievance in the clause that "though" closes: "lost again lol, great game
    # though" ends on praise, and the words carry no punctuation to tell clauses apart.
    closes = end == last and i >= last - _FINAL_CONTRAST_REACH
    return closes or any(w in _CONTRAST for w in words[:i])


def _rest(words: list[str], terms: list[str]) -> bool:
    """Whether ``words`` say more than the ``terms`` (and handles) do."""
    said = sum(len(t.split()) for t in terms)
    return len(words) - said >= _COURTESY_MIN_WORDS


def _gives_details(text: str) -> bool:
    """Whether ``text`` (links removed) gives an order or case id or a software version
    and then thanks: the details a brand asks for, so a short thanks after them ("my order
    is 88412093, thanks", "iOS 11.1, thanks") is a courtesy, not praise. A thanks before
    them thanks for them ("thanks for version 3.2", "merci pour la 2.0 !", "thx 4.5/5"),
    and an order said received is a thank-you ("received order 12345678 today, thanks")."""
    found = [*ORDER_ID_RE.finditer(text), *VERSION_RE.finditer(text)]
    if not found:
        return False
    lowered = text.lower()
    thanks = [m.start() for m in _THANKS_RE.finditer(lowered)]
    if not thanks or thanks[-1] < max(m.end() for m in found):
        return False
    return _RECEIVED_RE.search(lowered, 0, min(m.start() for m in found)) is None


_THANKS_RE = re.compile(r"\b(?:thank|thx\b|ty\b|merci|cheers\b)")
"""The words of ``_THANKS`` anywhere in a text (keep the two together); the short ones as
whole words, or "ty" would be found in "city"."""
_RECEIVED_RE = re.compile(
    r"\b(?:received|arrived|got|came|delivered|re[çc]u|re[çc]ue|arriv[ée]e?|livr[ée]e?)\b")


def intent_without_complaint(result: IntentResult) -> Intent:
    """The main intent once the complaint flag is set aside: purchase intent or a
    question when the rules also saw one ("I'd love a refund please" still asks),
    else "other"."""
    names = result.flag_names
    for name in _REQUEST_INTENTS:
        if name in names:
            return name
    return "other"


_REQUEST_INTENTS: tuple[Intent, ...] = ("purchase_intent", "question")


def _main_intent(flags: tuple[IntentFlag, ...]) -> Intent:
    names = {f.name for f in flags}
    if any(n.startswith("risk:") for n in names):
        return "risk"
    spam = next((f for f in flags if f.name == "spam"), None)
    if spam is not None and _strong_spam(spam.terms, names):
        return "spam"
    for name in ("complaint", "purchase_intent", "question"):
        if name in names:
            return name
    if "waiting" in names:  # "sent you a DM, thanks": the thanks is a courtesy
        return "other"
    if "praise" in names:
        return "praise"
    return "spam" if spam is not None else "other"


def _strong_spam(terms: tuple[str, ...], names: set[str]) -> bool:
    """Two spam terms, unless they are only link and hashtag counts on a mention that
    also complains or asks: an angry customer tags a lot, and that is not spam."""
    if len(terms) < 2:
        return False
    structural = all(t.endswith((" links", " hashtags")) for t in terms)
    return not (structural and names & {"complaint", "question", "purchase_intent"})
